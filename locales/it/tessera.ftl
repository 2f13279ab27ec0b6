# Tessera — messaggi in italiano (lingua predefinita).
# Ogni errore: il messaggio dice la causa, l'attributo .remedy cosa fare.

app-title = Tessera
devices-title = Dispositivi
devices-readers = Lettori
devices-tokens = Token e carte
devices-no-readers = Nessun lettore collegato.
devices-readers-unavailable = Elenco dei lettori non disponibile.
devices-no-tokens = Nessun token trovato.
devices-empty-reader = Nessuna carta inserita
devices-card-unknown = Carta non riconosciuta
devices-card-known-as = Nota come: { $name }
devices-card-conflict = Più voci del catalogo corrispondono: { $candidates }
devices-card-obsolete = Modello obsoleto: non rinnovabile
devices-atr = ATR
devices-updated = Aggiornato alle { $time }
devices-loading = Ricerca di lettori e token…
devices-certificates = { $count ->
    [0] Nessun certificato
    [one] 1 certificato
   *[other] { $count } certificati
}
token-serial = Seriale
token-module = Modulo
token-pin-ok = PIN attivo
token-pin-count-low = PIN: tentativi rimasti bassi
token-pin-final-try = PIN: ultimo tentativo
token-pin-locked = PIN bloccato: serve il PUK
token-pin-to-be-changed = PIN da cambiare
token-pin-not-initialized = PIN non impostato
token-pin-tries = { $tries ->
    [one] 1 tentativo rimasto
   *[other] { $tries } tentativi rimasti
}
token-not-initialized = Token non inizializzato
cert-holder = Titolare
cert-cf = Codice fiscale
cert-issuer = Emesso da
cert-serial = Numero di serie
cert-valid-from = Valido dal
cert-valid-until = Valido fino al
cert-key = Chiave
cert-role-authentication = Autenticazione (CNS)
cert-role-signature = Firma qualificata
cert-role-encryption = Cifratura
cert-role-authority = Autorità di certificazione
cert-role-other = Altro
cert-status-valid = Valido · { $days } giorni
cert-status-renewable = Rinnovabile · scade tra { $days } giorni
cert-status-expired = Scaduto da { $days } giorni
cert-status-not-yet-valid = Non ancora valido
cert-key-present = chiave privata presente
cert-key-not-visible = chiave privata protetta (visibile dopo il PIN)
cert-key-missing = nessuna chiave privata su questo dispositivo
prompt-user-pin = PIN utente di «{ $token }»
prompt-so-pin = PUK (PIN amministratore) di «{ $token }»
prompt-new-pin = Nuovo PIN per «{ $token }»
prompt-management-key = Chiave di gestione della carta «{ $token }» (esadecimale)
language = Lingua
error-title = Problema
event-reader-attached = Lettore collegato: { $reader }
event-reader-detached = Lettore scollegato: { $reader }
event-card-inserted = Carta inserita in { $reader }
event-card-removed = Carta rimossa da { $reader }

error-pcsc-not-running = Il servizio delle smart card (pcscd) non è in esecuzione.
    .remedy = Avvia il servizio (su Linux: «sudo systemctl start pcscd») e riprova; Tessera riprova da sola ogni pochi secondi.
error-pcsc-failed = Il servizio delle smart card ha risposto con un errore: { $reason }.
    .remedy = Scollega e ricollega il lettore; se il problema resta, riavvia il servizio pcscd.
error-no-readers = Nessun lettore di smart card collegato.
    .remedy = Collega il lettore o il token USB: comparirà qui da solo.
error-card-removed = La carta è stata tolta dal lettore «{ $reader }» durante la lettura.
    .remedy = Reinserisci la carta e attendi che la spia del lettore smetta di lampeggiare.
error-module-missing = Il modulo PKCS#11 «{ $module }» non è installato.
    .remedy = Installa il middleware del dispositivo oppure indica il percorso corretto del modulo.
error-card-module-missing = La carta «{ $card }» richiede il modulo PKCS#11 «{ $module }», che non è installato.
    .remedy = Installa il middleware indicato dal fornitore della carta (per le carte CNS spesso basta OpenSC), poi reinserisci la carta.
error-module-load-failed = Il modulo PKCS#11 «{ $module }» non si avvia: { $reason }.
    .remedy = Reinstalla il middleware del dispositivo; controlla che sia per questo sistema (64 bit).
error-token-removed = Il token «{ $token }» è stato rimosso durante la lettura.
    .remedy = Reinserisci il dispositivo: l'elenco si aggiorna da solo.
error-pkcs11-failed = Il token «{ $token }» ha risposto con un errore ({ $function }: { $rv }).
    .remedy = Rimuovi e reinserisci il dispositivo; se si ripete, esporta il file di errore e invialo all'assistenza.
error-catalog-invalid = Il file del catalogo carte «{ $file }» non è valido: { $reason }.
    .remedy = Correggi o rimuovi il file indicato (cartella TESSERA_DRIVERS).
error-catalog-conflict = L'ATR { $atr } corrisponde a più modelli del catalogo: { $candidates }.
    .remedy = Il catalogo carte va corretto: segnala l'ATR all'assistenza.
error-certificate-unreadable = Un certificato sul token «{ $token }» ({ $object }) non è leggibile: { $reason }.
    .remedy = Il certificato è danneggiato: potrà essere sostituito con un rinnovo o una nuova emissione.
error-unknown = Errore imprevisto ({ $code }).
    .remedy = Riprova; se si ripete, esporta il file di errore e invialo all'assistenza.
error-invalid-uri = «{ $uri }» non è un URI PKCS#11 valido: { $reason }.
    .remedy = Copia l'URI da «tessera devices» (inizia con «pkcs11:»).
error-token-not-found = Nessun token corrisponde a { $uri }.
    .remedy = Inserisci la carta o il token; con «tessera devices» vedi i token presenti e i loro URI.
error-token-ambiguous = { $count } token corrispondono a { $uri }.
    .remedy = Aggiungi all'URI il numero di serie del token (serial=…).
error-wrong-pin = PIN errato. { $state ->
        [ok] Restano altri tentativi prima del blocco.
        [count-low] Il token segnala che i tentativi rimasti sono pochi.
        [final-try] Resta un solo tentativo: un altro errore blocca il PIN.
        [locked] Il PIN ora è bloccato.
       *[other] Il token non segnala un limite di tentativi.
    }
    .remedy = Controlla il PIN (prima metà ricevuta per SMS o stampata, seconda metà per e-mail) e riprova.
error-pin-locked = Il PIN è bloccato.
    .remedy = Sbloccalo con il PUK («tessera pin unblock»); se anche il PUK è bloccato serve una nuova carta.
error-pin-final-try = Resta un solo tentativo per il PIN: Tessera non lo usa senza conferma.
    .remedy = Se sei sicuro del PIN, ripeti con la conferma dell'ultimo tentativo (--final-try); altrimenti sblocca con il PUK.
error-pin-rejected = Il token non accetta il nuovo PIN.
    .remedy = Scegli un PIN della lunghezza richiesta dal dispositivo (di solito da 4 a 8 cifre).
error-key-not-protected = Il token ha creato una chiave non protetta ({ $reason }): { $deleted ->
        [yes] è stata cancellata.
       *[no] il token non ha permesso di cancellarla; non usarla.
    }
    .remedy = Questo dispositivo non garantisce che la chiave resti sulla carta: usa una carta o un token certificato.
error-id-in-use = Sul token esistono già oggetti con identificativo { $id }.
    .remedy = Lascia scegliere l'identificativo a Tessera, oppure indicane uno libero.
error-key-not-found = Nessuna coppia di chiavi corrisponde a { $uri }.
    .remedy = Controlla l'identificativo della chiave con «tessera devices» o generane una nuova.
error-certificate-key-mismatch = Il certificato «{ $certificate }» non corrisponde alla chiave { $key }: non è stato scritto nulla.
    .remedy = Installa il certificato emesso per questa chiave (quello ricevuto in risposta alla sua richiesta).
error-certificate-exists = Accanto alla chiave { $id } c'è già un certificato: non viene sovrascritto.
    .remedy = Per sostituirlo usa il rinnovo, che conserva il certificato attuale finché il nuovo non è installato e verificato.
error-object-not-found = Nessun oggetto corrisponde a { $uri }.
    .remedy = Controlla l'URI con «tessera devices».
error-selector-too-broad = L'URI { $uri } non indica né un identificativo né un'etichetta: Tessera non cancella oggetti alla cieca.
    .remedy = Indica l'oggetto da cancellare con id=… oppure object=….
error-algorithm-unsupported = La carta «{ $card }» non può generare chiavi { $algorithm }.
    .remedy = Scegli uno degli algoritmi supportati dalla carta (vedi il catalogo carte).
error-csr-failed = La richiesta di certificato non è valida: { $reason }.
    .remedy = Riprova; se si ripete, esporta il file di errore e invialo all'assistenza.
error-certificate-invalid = Il file non contiene un certificato leggibile: { $reason }.
    .remedy = Usa il certificato in formato PEM o DER ricevuto dall'autorità di registrazione.
error-puk-low = Il PUK della carta ha { $tries_left ->
        [0] esaurito i tentativi
        [one] un solo tentativo rimasto
       *[other] { $tries_left } tentativi rimasti
    }: Tessera non usa l'ultimo, perché con il PUK bloccato il PIN non si potrebbe più sbloccare.
    .remedy = Rivolgiti alla tua autorità di registrazione: nulla è stato sovrascritto sulla carta.
error-wrong-puk = PUK errato.
    .remedy = Controlla il PUK (prima metà ricevuta per SMS o stampata, seconda metà per e-mail); dopo troppi errori anche il PUK si blocca.
error-card-command-failed = La carta nel lettore «{ $reader }» ha rifiutato un comando (codice { $sw }).
    .remedy = Reinserisci la carta e riprova; se si ripete, esporta il file di errore e invialo all'assistenza.
error-management-key-rejected = La carta non accetta la chiave di gestione indicata.
    .remedy = Controlla la chiave di gestione (24 byte in esadecimale) con chi ha preparato la carta.
error-management-key-needed = Su questa carta le chiavi si generano con la sua chiave di gestione.
    .remedy = Indica la chiave di gestione della carta (--management-key).
error-input-failed = Lettura o scrittura non riuscita: { $reason }.
    .remedy = Controlla il percorso del file e i suoi permessi, oppure inserisci il PIN dal terminale (o passalo con --pin-stdin).

## Nuova attivazione
ask-activation-code = Codice di attivazione (ricevuto per e-mail o dall'operatore)
ask-tax-code = Codice fiscale del titolare (o numero di passaporto)
ask-otp = Codice ricevuto per SMS al numero { $mobile } (invio vuoto per un nuovo SMS, possibile dopo { $resend_after } secondi)
ask-operator-name = Nome dell'account operatore
ask-operator-password = Password dell'account { $name }
ask-operator-code = Codice monouso dell'app di autenticazione
ask-confirm-counter-request = Pratica { $reference } di { $holder } (ufficio { $office }), profilo { $profile }: attivarla allo sportello e creare le chiavi sulla carta "{ $token }"? [s/n]
ask-confirm-request = Pratica di { $holder }, profilo { $profile }: creare le chiavi sulla carta "{ $token }"? [s/n]
notice-cf-check-letter = Il codice fiscale { $code } ha la lettera di controllo sbagliata: dovrebbe finire con { $expected }.
notice-cf-malformed = Il codice fiscale non ha la forma giusta (carattere { $position }).
role-signature = firma qualificata
role-authentication = autenticazione CNS
step-arm = Abilitazione della pratica
step-check-card = Controllo della carta
step-generate = Generazione della coppia di chiavi sulla carta ({ $role })
step-issue = Richiesta del certificato, firmata sulla carta ({ $role })
step-verify = Verifica del certificato ricevuto ({ $role })
step-install = Scrittura del certificato sulla carta ({ $role })
step-confirm = Conferma all'autorità di registrazione ({ $role })
progress-started = …
progress-done = fatto
progress-resumed = già fatto in un'esecuzione precedente
progress-failed = non riuscito
activation-done = Attivazione completata: pratica { $reference }, { $holder }.
activation-certificate = Certificato di { $role }: { $holder }, valido fino al { $not_after }.
activation-suspended = Il certificato è emesso sospeso: l'ufficio di registrazione lo attiva dopo aver verificato i documenti.
activation-next = Riceverai per e-mail la seconda metà di PIN e PUK e il codice utente, che serve per sospendere o revocare i certificati.

error-ra-unreachable = L'autorità di registrazione ({ $url }) non risponde: { $reason }.
    .remedy = Controlla la connessione a Internet e riprova: l'attivazione riprende dal punto in cui si è fermata.
error-ra-answer-malformed = L'autorità di registrazione ha risposto in modo non valido: { $reason }.
    .remedy = Riprova più tardi; se si ripete, salva il file di errore e invialo all'assistenza.
error-cmp-rejected = L'autorità di certificazione ha rifiutato la richiesta: { $text }.
    .remedy = Verifica il codice di attivazione; se il rifiuto si ripete, contatta l'ufficio di registrazione con il file di errore.
error-answer-not-authentic = La risposta ricevuta non è protetta dal codice di attivazione: non viene usata.
    .remedy = Qualcuno tra te e l'autorità di registrazione altera i messaggi, oppure l'indirizzo è sbagliato: controlla l'indirizzo del server e la rete.
error-certificate-for-another-key = Il certificato ricevuto non è per la chiave creata sulla carta: è stato rifiutato e non è stato scritto.
    .remedy = Riprova l'attivazione; se si ripete, contatta l'ufficio di registrazione.
error-certificate-untrusted = Il certificato ricevuto non risale all'autorità di certificazione attesa ({ $reason }): è stato rifiutato e non è stato scritto.
    .remedy = Controlla il certificato dell'autorità configurato (--ra-ca); se è giusto, contatta l'assistenza.
error-card-unsuitable = La carta "{ $card }" non può ricevere il profilo { $profile }: { $reason }.
    .remedy = Usa una carta che supporti le chiavi richieste e abbia spazio libero, oppure rinnova i certificati già presenti.
error-profile-unknown = Profilo di certificato sconosciuto: { $profile }.
    .remedy = Aggiorna Tessera; se il problema resta, contatta l'ufficio di registrazione.
error-no-token = Non c'è nessuna carta o token inserito.
    .remedy = Inserisci la carta nel lettore (o collega il token) e riprova.
error-cancelled = Operazione annullata: sulla carta non è stato scritto nulla di incompleto.
    .remedy = Riprova quando vuoi: l'attivazione riprende dal punto in cui si è fermata.
error-storage-failed = Impossibile leggere o scrivere { $path }: { $reason }.
    .remedy = Controlla lo spazio libero e i permessi della cartella dei dati di Tessera.
error-already-activated = La pratica { $reference } è già stata attivata su questo computer.
    .remedy = I certificati sono sulla carta: li trovi nella schermata Dispositivi.
error-activation-refused = Codice di attivazione o codice fiscale non corretti.
    .remedy = Controlla il codice ricevuto per e-mail e il codice fiscale; dopo cinque errori la pratica si blocca.
error-request-locked = La pratica è bloccata dopo troppi tentativi errati.
    .remedy = Contatta l'ufficio di registrazione: un operatore può sbloccarla o darti un nuovo codice.
error-otp-wrong = Il codice SMS non è corretto.
    .remedy = Controlla l'ultimo SMS ricevuto; dopo cinque errori la pratica si blocca.
error-otp-expired = Il codice SMS è scaduto (vale 5 minuti).
    .remedy = Chiedi un nuovo SMS (invio vuoto) e digita il nuovo codice.
error-otp-resend-too-soon = Un nuovo SMS si può chiedere tra { $wait } secondi.
    .remedy = Attendi qualche secondo e chiedi di nuovo.
error-no-otp = Per questa pratica non è stato inviato nessun codice SMS.
    .remedy = Ricomincia l'attivazione dal codice di attivazione.
error-no-mobile = Per questa pratica non è registrato un numero di cellulare.
    .remedy = Fai l'attivazione presso l'ufficio di registrazione, o chiedi di registrare il tuo cellulare.
error-unknown-request = L'autorità di registrazione non conosce questa pratica (o non è del tuo ufficio).
    .remedy = Controlla il codice di attivazione o, allo sportello, il riferimento della pratica nella console.
error-already-issued = La pratica { $reference } ha già i suoi certificati.
    .remedy = I certificati sono già stati emessi: se la carta non li ha, contatta l'ufficio di registrazione.
error-rate-limited = Troppe richieste in poco tempo.
    .remedy = Attendi { $retry_after } secondi e riprova.
error-operator-unauthenticated = Non hai un accesso valido all'autorità di registrazione (credenziale errata, sessione chiusa o account disattivato).
    .remedy = Accedi di nuovo con nome, password e codice monouso; se l'account è disattivato, rivolgiti al responsabile dell'ufficio.
error-operator-session-ended = La sessione dell'operatore è terminata (inattiva troppo a lungo, scaduta, chiusa o account disattivato).
    .remedy = Accedi di nuovo con nome, password e codice monouso: l'attivazione riprende da dove si era fermata.
error-sign-in-refused = Accesso non riuscito: il nome, la password o il codice monouso non è corretto.
    .remedy = Controlla i tre dati e usa il codice che l'app di autenticazione mostra adesso; dopo cinque tentativi errati l'account attende qualche minuto.
error-sign-in-code-reused = Questo codice monouso è già stato usato.
    .remedy = Attendi il codice successivo nell'app di autenticazione (cambia ogni 30 secondi) e riprova.
error-sign-in-waits = Troppi accessi errati: l'account attende ancora { $minutes } minuti.
    .remedy = Riprova dopo l'attesa; se hai dimenticato la password, recuperala dalla console di registrazione.
error-password-change-required = L'account ha ancora la password monouso ricevuta.
    .remedy = Accedi prima alla console di registrazione e scegli la tua password, poi accedi qui.
error-sms-gateway-failed = L'SMS non è potuto partire.
    .remedy = Riprova tra qualche minuto; se si ripete, contatta l'ufficio di registrazione.
error-ra-internal = L'autorità di registrazione ha avuto un errore interno.
    .remedy = Riprova più tardi: l'attivazione riprende dal punto in cui si è fermata.
error-card-reset = Un altro programma ha reinizializzato la carta durante l'operazione.
    .remedy = Chiudi gli altri programmi che usano la carta e riprova.

## Finestra: Nuova attivazione
devices-activate = Attiva questa carta
wizard-title = Nuova attivazione
wizard-progress = Avanzamento
wizard-start-title = Quale carta attivare, e come
wizard-link-reference = Pratica { $reference }, dal link che hai aperto: scrivi il codice di attivazione di questa pratica.
wizard-token = Carta o token
wizard-mode = Modalità
wizard-mode-holder = A casa (titolare)
wizard-mode-holder-hint = Codice di attivazione ricevuto per e-mail, codice fiscale e codice SMS.
wizard-mode-operator = Allo sportello (operatore)
wizard-mode-operator-hint = L'operatore, autenticato presso l'autorità di registrazione, digita il codice portato dal titolare: nessun SMS.
wizard-next = Avanti
wizard-cancel = Annulla
wizard-confirm = Conferma e crea le chiavi
wizard-confirm-title = Controlla la pratica
wizard-confirm-hint = Le chiavi vengono generate sulla carta e non la lasciano mai.
wizard-holder = Titolare
wizard-profile = Profilo
wizard-working = Attendere…
wizard-ask-activation-code = Codice di attivazione
wizard-ask-tax-code = Codice fiscale del titolare (o numero di passaporto)
wizard-ask-otp = Codice ricevuto per SMS
wizard-sign-in-title = Accesso dell'operatore
wizard-sign-in-hint = Lo stesso account della console di registrazione: nome, password e il codice monouso dell'app di autenticazione. La sessione resta solo in memoria e si chiude da sola se il programma resta inattivo.
wizard-sign-in = Accedi
wizard-counter-confirm-title = Controlla la pratica da attivare allo sportello
wizard-reference = Pratica
wizard-office = Ufficio
operator-signed-in = Sportello: { $name } · ufficio { $office }
operator-sign-out = Esci
wizard-ask-operator-name = Nome dell'account operatore
wizard-ask-operator-password = Password
wizard-ask-operator-code = Codice monouso (app di autenticazione)
wizard-ask-management-key = Chiave di gestione della carta (esadecimale)
wizard-pin-user = PIN della carta
wizard-pin-so = PIN di amministrazione (PUK) della carta
wizard-otp-sent = SMS inviato al numero { $mobile }.
wizard-resend = Invia un nuovo SMS
wizard-resend-in = Nuovo SMS tra { $seconds } s
wizard-cf-valid = Codice fiscale corretto.
wizard-cf-fix = Usa { $code }
wizard-cf-passport = Non è un codice fiscale: verrà usato come numero di passaporto.
wizard-close = Chiudi
wizard-retry = Riprova
wizard-failed-title = Attivazione non completata
profile-signature = Firma qualificata
profile-cns-authentication = Autenticazione CNS
profile-cns-signature = CNS e firma qualificata (due certificati)
wizard-save-error-file = Salva file di errore
wizard-error-file-saved = File di errore salvato in { $path }: allegalo alla richiesta di assistenza. Non contiene PIN, PUK, codici o chiavi.
error-middleware-cannot-activate = Il software della carta installato, { $middleware }, sulla carta «{ $card }» sa solo: { $can }. Non può generare le chiavi né scrivere i certificati: sulla carta non è stato fatto nulla.
    .remedy = { $install ->
        [none] Per questa carta non è noto un software che la attivi su questo sistema: usa un altro computer o rivolgiti all'ufficio di registrazione.
       *[other] Installa il software del produttore della carta: { $install }. Poi reinserisci la carta e riprova.
    }
step-personalise = Impostazione di PIN e PUK scelti dall'autorità di registrazione sulla carta nuova
ask-choose-token = Ci sono più carte o token: quale attivare? { $tokens } (numero o nome)
wizard-ask-choose-token = Carta o token da attivare (numero o nome)
ask-confirm-final-try = Al PIN di «{ $token }» resta un solo tentativo: se è sbagliato, il PIN si blocca e serve il PUK. Continuare? [s/n]
wizard-final-try-title = Ultimo tentativo del PIN
wizard-final-try-go = Sono sicuro del PIN, continua
wizard-final-try-stop = Fermati

## Diagnostica del rinnovo (tessera diagnose; la prima schermata della procedura di rinnovo)
diag-title = Diagnostica del rinnovo per { $token } ({ $card }), prima di qualsiasi PIN:
diag-certificate = { $role }: { $subject }, valido fino al { $not_after }
diag-verdict-pass = Questo certificato può essere rinnovato.
diag-verdict-warn = Questo certificato può essere rinnovato; leggi prima gli avvisi qui sopra.
diag-verdict-fail = Questo certificato ora non può essere rinnovato: vedi le cause qui sopra.
diag-no-certificate = Nessun certificato di questa carta è tra quelli che il rinnovo sostituisce (autenticazione o firma).
diag-card-model-known = Modello di carta riconosciuto: { $card }.
diag-card-model-unknown = Il modello di carta non è nel catalogo di Tessera ({ $token }): il rinnovo può funzionare lo stesso; se non riesce, invia il file di errore.
diag-card-model-obsolete = { $card } è un modello obsoleto: non può essere rinnovato. Chiedi una carta nuova al tuo ufficio di registrazione.
diag-card-model-not-renewable = { $card }: i suoi certificati li rinnova l'ente che li ha emessi, non qui. Rivolgiti all'ufficio che ti ha dato la carta.
diag-middleware-can-renew = Il software della carta ({ $module }) può creare chiavi e scrivere certificati su questa carta.
diag-middleware-cannot-write = Il software della carta { $middleware } su questa carta può solo { $can }: per il rinnovo ne serve uno che crei chiavi e scriva. Installa { $install }.
diag-middleware-other = Il software della carta non può essere usato per il rinnovo: { $reason }.
diag-pin-ok = PIN: tutti i tentativi disponibili.
diag-pin-count-low = PIN: dall'ultimo PIN giusto ne è stato digitato uno sbagliato. Digitalo con attenzione.
diag-pin-final-try = PIN: resta un solo tentativo. Il rinnovo si ferma qui per non bloccare la carta: sblocca o cambia prima il PIN con il PUK (tessera pin unblock).
diag-pin-locked = PIN bloccato. Sbloccalo con il PUK (tessera pin unblock), poi rinnova.
diag-pin-to-be-changed = Il PIN va cambiato prima dell'uso (tessera pin change), poi rinnova.
diag-pin-not-initialized = La carta non ha ancora un PIN: serve una nuova attivazione, non un rinnovo.
diag-card-in-use-free = Nessun altro programma sta usando la carta.
diag-card-in-use-busy = Un altro programma tiene occupata la carta nel lettore { $reader } (il sistema non dice quale): chiudi gli altri programmi di firma o della carta e riprova.
diag-card-in-use-unknown = Non è stato possibile capire se un altro programma usa la carta: { $reason }.
diag-middleware-cache-none = Nessuna cache del software della carta mostrerà oggetti superati.
diag-middleware-cache-present = OpenSC tiene una cache su file ({ $dir }): dopo il rinnovo Tessera la svuota per questa carta, così i nuovi certificati si vedono.
diag-ra-reachable = L'autorità di registrazione risponde ({ $url }) e il suo certificato è riconosciuto.
diag-ra-unreachable = L'autorità di registrazione ({ $url }) non è raggiungibile: { $reason }. Controlla la connessione, oppure l'indirizzo e il certificato dell'autorità nelle impostazioni.
diag-decryption-key-kept = Questa carta contiene anche una chiave di decifrazione ({ $certificates }): il rinnovo la conserva con il suo certificato, così i tuoi file cifrati restano leggibili.
diag-renewal-window-open = Il rinnovo è aperto: { $days } giorni rimasti (fino al { $not_after }); il nuovo certificato parte da dove finisce questo.
diag-renewal-window-not-yet = Il rinnovo si apre 60 giorni prima della scadenza, tra { $opens_in } giorni (valido fino al { $not_after }).
diag-renewal-window-expired = Scaduto il { $not_after }: un certificato scaduto non può essere rinnovato. Serve una nuova attivazione (una carta nuova).
diag-renewal-window-not-valid-yet = Questo certificato non è ancora valido (controlla l'orologio del computer).
diag-key-algorithm-accepted = Chiave { $key }: ancora accettata.
diag-key-algorithm-too-weak = Chiave { $key }: troppo debole, la CA non la accetta più: serve una nuova attivazione.
diag-key-algorithm-card-makes-none = Chiave { $key }: il catalogo non conosce alcun tipo di chiave che questa carta sappia creare per il nuovo certificato.
diag-private-key-present = La chiave del certificato è sulla carta.
diag-private-key-after-pin = La chiave del certificato viene verificata con una firma di prova dopo il PIN.
diag-private-key-missing = La chiave del certificato non è sulla carta: il rinnovo ne ha bisogno per firmare la richiesta. Usa la carta che ha la chiave, oppure una nuova attivazione.
diag-private-key-signs = La chiave del certificato firma: una firma di prova sulla carta è verificata con il certificato.
diag-private-key-does-not-sign = La chiave sulla carta non corrisponde al certificato: la firma di prova non si verifica. Il rinnovo ha bisogno della chiave del certificato: usa la carta che la contiene, oppure una nuova attivazione.
diag-private-key-unusable = La chiave del certificato non ha potuto fare una firma di prova: { $reason }.
diag-room-next-to-old = C'è spazio per la nuova chiave accanto alla vecchia: il vecchio certificato continua a funzionare finché il nuovo non è installato.
diag-room-overwrite = Questa carta ha una posizione fissa per questa chiave: il rinnovo viene prima autorizzato con la vecchia chiave, poi la posizione viene sovrascritta; un'interruzione riprende fino alla fine.
diag-ra-renewal-open = L'autorità di registrazione può rinnovare questo certificato.
diag-ra-renewal-approval = L'autorità di registrazione può rinnovare questo certificato; poi un operatore approva il rinnovo (il nuovo certificato funziona subito, ed è sospeso se non approvato entro la scadenza del vecchio).
diag-ra-renewal-superseded = L'autorità di registrazione ha già rinnovato questo certificato: installa il nuovo certificato con tessera renew sulla carta che lo contiene, oppure rivolgiti alla tua autorità di registrazione.
diag-ra-renewal-suspended = Questo certificato è sospeso presso l'autorità di registrazione: non si può rinnovare finché non viene riattivato. Rivolgiti alla tua autorità di registrazione.
diag-ra-renewal-revoked = Questo certificato è revocato: non si può rinnovare. Serve una nuova attivazione.
diag-ra-renewal-unknown = L'autorità di registrazione non conosce questo certificato (l'ha emesso un'altra autorità): rivolgiti a quella.
diag-ra-renewal-unanswered = L'autorità di registrazione non ha detto se questo certificato si può rinnovare: { $reason }.
diag-ra-renewal-contact-conflict = { $field ->
        [mobile] Il tuo cellulare risulta registrato
       *[other] La tua e-mail risulta registrata
    } presso l'autorità di registrazione a un'altra persona: nel rinnovo indicane uno nuovo, confermato dal codice che riceverai, prima di firmare il modulo.

## Rinnovo (tessera renew)
step-diagnose = Verifica che la carta possa essere rinnovata
step-retire = Rimozione della vecchia chiave e del vecchio certificato, ora che i nuovi funzionano ({ $role })
notify-renewal-title = Tessera: rinnova il tuo certificato
notify-renewal-body = Il certificato di { $role } di { $holder } (carta «{ $token }») scade tra { $days } giorni, il { $date }. Rinnovalo dalla schermata Dispositivi di Tessera, con la carta inserita.
notify-expired-body = Il certificato di { $role } di { $holder } (carta «{ $token }») è scaduto il { $date }: non si può più rinnovare. Serve una nuova attivazione.
ask-sign-renewal-form = Accetti le condizioni generali (versione { $contract_version }) e firmi il modulo di rinnovo con il certificato in scadenza? [s/n]
step-sign-form = Firma del modulo di rinnovo con il certificato in scadenza
wizard-overwrite-title = La nuova chiave prende il posto della vecchia
wizard-overwrite-go = Procedi
wizard-overwrite-stop = Non ora
wizard-renewal-code = Codice di rinnovo inviato a { $to }
wizard-renewal-code-hint = Il rinnovo di questa carta si era interrotto dopo aver sostituito la chiave: con il codice ricevuto quando l'hai autorizzato si completa.
wizard-resend-code = Inviamelo di nuovo
wizard-resend-code-in = Di nuovo tra { $seconds } s
step-authorise = Autorizzazione a sostituire la chiave nella sua posizione
ask-confirm-overwrite = Su "{ $token }" la nuova chiave prende la posizione della vecchia: il certificato { $certificate } smette di funzionare appena la posizione viene sovrascritta, finché non è installato il nuovo. Il rinnovo viene prima autorizzato con la vecchia chiave, così si completa sempre, anche se si interrompe. Procedi? [s/n]
ask-renewal-code = Codice di rinnovo inviato a { $to } (Invio vuoto per riceverlo di nuovo)
ask-contacts = Recapiti per il rinnovo
ask-contact-code = Codice inviato { $channel ->
        [mobile] per SMS a
       *[other] per e-mail a
    } { $to }
renewal-contacts = Recapiti registrati: cellulare { $mobile }, e-mail { $email }.
renewal-contact-none = —
wizard-contacts-title = I tuoi recapiti
wizard-contacts-hint = Sono quelli registrati presso l'autorità di registrazione. Per cambiarli scrivi quelli nuovi: la modifica è firmata con la tua carta e confermata dal codice che riceverai su ciascuno.
wizard-contacts-mobile = Nuovo cellulare
wizard-contacts-email = Nuova e-mail
wizard-contacts-email-fixed = L'e-mail è quella del certificato: la cambia l'autorità di registrazione.
wizard-contacts-keep = Lascia così
wizard-contacts-change = Cambia recapiti
wizard-contacts-current = Attuali: cellulare { $mobile }, e-mail { $email }
renewal-contract-heading = Condizioni generali (versione { $version }):
renewal-form-heading = Modulo di rinnovo da firmare:
renewal-policy-approval = Il tuo centro di registrazione approva i rinnovi: il nuovo certificato funziona subito, ma se non viene approvato entro la scadenza di quello vecchio viene sospeso.
renewal-contract-other-version = Le condizioni generali sono ora alla versione { $version }, non { $accepted } accettata con --accept-contract: leggile e riprova.
wizard-renewal-form-title = Condizioni e modulo di rinnovo
wizard-renewal-form-sign = Accetto e firmo
wizard-diagnostics-summary = Verifiche prima del PIN: { $passed } superate{ $warnings ->
        [0] {""}
       *[other] , { $warnings } da notare
    }{ $failures ->
        [0] {""}
       *[other] , { $failures } che fermano il rinnovo
    }
error-renewal-key-mismatch = La chiave sulla carta non firma per il certificato { $certificate }: { $reason }.
    .remedy = La carta non ha la chiave di questo certificato: usa la carta giusta, oppure chiedi una nuova attivazione.
error-begun-on-another-card = L'attivazione della pratica { $reference } è iniziata su un'altra carta.
    .remedy = Inserisci la carta su cui era iniziata (la sua chiave è lì) e riprova: riprende da dove si era fermata.
error-batch-no-card = Per la pratica { $reference } non c'era una carta libera.
    .remedy = Inserisci un'altra carta senza certificati e avvia un lotto con questa pratica.
batch-start = Attivazione di { $cards } carte per { $requests } pratiche, tutte insieme:
batch-confirm = Avviare le attivazioni così? [s/n]
batch-done = Attivate { $done } carte su { $all }.
error-link-refused = Questo link non è un link di Tessera valido e non è stato aperto.
    .remedy = Usa il link dell'e-mail dell'autorità di registrazione o della console così com'è; altrimenti apri Tessera e scegli l'operazione dai suoi pulsanti.
error-link-carries-code = Il link contiene un codice: Tessera non accetta codici dai link e non l'ha aperto.
    .remedy = Nessun link di Tessera contiene il codice di attivazione, il PIN o un codice SMS: scrivili tu nella finestra. Se un messaggio ti chiede di aprire un link con il tuo codice, potrebbe non venire dalla tua autorità di registrazione.
error-link-reference-mismatch = Il codice scritto è della pratica { $found }, ma il link era per la pratica { $expected }.
    .remedy = Controlla di usare il codice dell'e-mail che contiene il link; se hai due pratiche, attivale una alla volta con il loro codice.
error-link-certificate-absent = Il certificato { $serial } del link non è su nessuna carta inserita.
    .remedy = Inserisci la carta con quel certificato e apri di nuovo il link, oppure usa Rinnova accanto al certificato nella schermata Dispositivi.
error-link-certificate-not-renewable = Il certificato { $serial } del link non si può rinnovare da qui: non è in scadenza, è già stato rinnovato, oppure la sua chiave non è sulla carta.
    .remedy = Guarda lo stato del certificato nella schermata Dispositivi; se pensi che vada rinnovato, rivolgiti al tuo ufficio di registrazione.
error-form-signature-refused = L'autorità di registrazione non ha accettato la firma del modulo di rinnovo: { $reason }.
    .remedy = Riprova il rinnovo; se si ripete, invia il file di errore alla tua autorità di registrazione.
error-contract-changed = Le condizioni generali sono cambiate (ora versione { $version }) mentre firmavi.
    .remedy = Riprova il rinnovo per leggere e accettare la nuova versione.
error-renewal-not-waiting = Questa richiesta di rinnovo non attende più la firma (stato: { $state }).
    .remedy = Riprova il rinnovo: se è stata annullata se ne apre una nuova.
error-not-renewable = Questo certificato non si può rinnovare (stato: { $state }).
    .remedy = Esegui tessera diagnose sulla carta: dice perché e cosa fare.
error-renewal-not-open = Il rinnovo si apre 60 giorni prima della scadenza, tra { $opens_in } giorni.
    .remedy = Riprova quando il rinnovo è aperto: Tessera te lo ricorda.
error-certificate-expired = Il certificato è scaduto: non si può più rinnovare.
    .remedy = Serve una nuova attivazione, con una nuova pratica.
error-unknown-renewal = L'autorità di registrazione non conosce questa richiesta di rinnovo.
    .remedy = Riprova il rinnovo dall'inizio.
error-bad-serial = Numero di serie del certificato non valido.
    .remedy = Invia il file di errore alla tua autorità di registrazione.
error-contact-data-conflict = { $field ->
        [mobile] Il tuo cellulare risulta registrato
       *[other] La tua e-mail risulta registrata
    } a un'altra persona.
    .remedy = Indica un nuovo recapito nel rinnovo (nella finestra, o con tessera renew --mobile / --email); se è davvero tuo, chiedi all'autorità di registrazione di correggere l'altra registrazione.
error-contact-signature-refused = L'autorità di registrazione non ha accettato la firma della modifica dei recapiti: { $reason }.
    .remedy = Riprova il rinnovo con la carta del certificato in scadenza.
error-contact-invalid = { $field ->
        [mobile] Il nuovo cellulare non è un numero valido (serve il prefisso internazionale, es. +39 333 1234567).
        [email] La nuova e-mail non è un indirizzo valido.
       *[other] Non hai indicato alcun nuovo recapito.
    }
    .remedy = Correggi il recapito e riprova.
error-contact-in-certificate = La tua e-mail è quella scritta nel certificato: non si può cambiare con il rinnovo.
    .remedy = Chiedi all'autorità di registrazione di aggiornare i tuoi dati, poi rinnova.
error-contact-taken = { $field ->
        [mobile] Questo cellulare è registrato
       *[other] Questa e-mail è registrata
    } a un'altra persona.
    .remedy = Indica un recapito tuo; se lo è davvero, chiedi all'autorità di registrazione di correggere l'altra registrazione.
error-no-contact-change = Non c'è una modifica dei recapiti da confermare.
    .remedy = Riprova il rinnovo e indica di nuovo i recapiti da cambiare.
error-contact-codes-spent = Hai sbagliato il codice { $tries } volte, oppure è scaduto (vale 5 minuti): la modifica dei recapiti è annullata.
    .remedy = Riprova il rinnovo: riceverai un nuovo codice.
error-contact-code-wrong = Codice sbagliato: { $tries_left ->
        [one] ti resta un tentativo
       *[other] ti restano { $tries_left } tentativi
    }.
    .remedy = Controlla il codice ricevuto sul nuovo recapito e riscrivilo.
error-overwrite-signature-refused = L'autorità di registrazione non ha accettato la firma dell'autorizzazione a sostituire la chiave: { $reason }.
    .remedy = Riprova il rinnovo con la carta del certificato in scadenza: nulla è stato sovrascritto.
error-renewal-not-forwarded = Il modulo di rinnovo non risulta firmato (stato: { $state }).
    .remedy = Riprova il rinnovo: il modulo viene mostrato e firmato prima di sostituire la chiave.
error-no-contact-for-code = L'autorità di registrazione non ha né un tuo cellulare né una tua e-mail a cui mandare il codice di rinnovo.
    .remedy = Chiedi all'autorità di registrazione di registrare un tuo recapito, poi rinnova: nulla è stato sovrascritto.
error-overwrite-not-authorised = La sostituzione della chiave non risulta autorizzata per questo rinnovo.
    .remedy = Riprova il rinnovo dall'inizio.
error-renewal-code-wrong = Codice di rinnovo sbagliato.
    .remedy = Controlla il codice ricevuto quando hai autorizzato il rinnovo e riscrivilo; dopo cinque errori si attende qualche minuto.
error-renewal-code-wait = Troppi codici di rinnovo sbagliati: riprova tra { $wait } secondi.
    .remedy = Attendi, poi scrivi il codice ricevuto quando hai autorizzato il rinnovo (puoi chiederlo di nuovo).
error-renewal-overwrite-authorised = Questo rinnovo ha già autorizzato la sostituzione della chiave sulla carta: non si può annullare.
    .remedy = Il titolare lo completa con il codice di rinnovo; solo così la sua carta torna ad avere una chiave funzionante.
error-renewal-closed = Questa richiesta di rinnovo non è più aperta (stato: { $state }).
    .remedy = Nulla da annullare.
error-overwrite-proof = Richiesta di autorizzazione non valida.
    .remedy = Invia il file di errore alla tua autorità di registrazione.
error-code-resend-too-soon = Il codice è appena stato inviato: puoi chiederlo di nuovo tra { $wait } secondi.
    .remedy = Attendi qualche secondo, poi chiedilo di nuovo.
error-unknown-certificate = L'autorità di registrazione non conosce questo certificato.
    .remedy = Verifica che il certificato della carta sia stato emesso da questa autorità di registrazione.
error-renewal-blocked = Il rinnovo non può proseguire: la verifica "{ $check }" non è superata.
    .remedy = Esegui tessera diagnose su questa carta: dice perché e cosa fare.
error-choose-certificate = Su questa carta si possono rinnovare più certificati: { $candidates }.
    .remedy = Indica quale con --certificate e il suo URI.
error-nothing-to-renew = Nessun certificato di { $token } è tra quelli che il rinnovo sostituisce.
    .remedy = Controlla la carta scelta; una carta senza certificati richiede una nuova attivazione.
error-validity-not-continuing = Il nuovo certificato inizia { $starts }, non dove finisce il vecchio ({ $ends }): non è stato installato.
    .remedy = Invia il file di errore alla tua autorità di registrazione; il vecchio certificato continua a funzionare.
renewal-done = Rinnovato: { $subject }, valido dal { $not_before } al { $not_after }.
renewal-retired = Il vecchio certificato ({ $serial }) e la sua chiave sono stati rimossi dalla carta.
renewal-kept = Il vecchio certificato ({ $serial }) resta sulla carta e funziona finché non inizia il nuovo.

## Promemoria di rinnovo (tessera status; la schermata Dispositivi)
status-none = Nessun certificato visto su questo computer va rinnovato entro 60 giorni.
status-due = Certificato di { $role } di { $holder } (carta "{ $token }"{ $present ->
        [yes] {""}
       *[no] , non inserita
    }): scade tra { $days } giorni ({ $not_after }). Rinnovalo con Rinnova sulla sua carta nella schermata Dispositivi, o con tessera renew.
status-expired = Certificato di { $role } di { $holder } (carta "{ $token }"): scaduto il { $not_after }. Non può più essere rinnovato: serve una nuova attivazione.
reminders-title = Promemoria di rinnovo
renewal-title = Rinnovo
devices-renew = Rinnova
diag-renewal-window-already-renewed = Già rinnovato: la carta contiene il certificato che gli succede, valido dal { $not_after }.
cert-status-renewed = Rinnovato · funziona ancora { $days } giorni, poi il successore
cert-status-successor = Rinnovo · valido dal { $date }

# Rifiuti dell'autorità di registrazione (API JSON), anche verso gli operatori.
error-malformed-json = La richiesta non è un JSON valido: { $reason }.
    .remedy = Correggi il corpo della richiesta e riprova.
error-json-content-type = La richiesta non è di tipo application/json.
    .remedy = Invia il corpo come JSON con l'intestazione Content-Type: application/json.
error-json-fields = Alla richiesta manca un campo, o un campo ha un tipo sbagliato: { $reason }.
    .remedy = Controlla i campi richiesti nella documentazione dell'API (openapi.json).
error-activation-session-invalid = La sessione dell'SMS non è più valida.
    .remedy = Ricomincia l'attivazione dal codice di attivazione: riceverai un nuovo SMS.
error-no-email = Per questo titolare non è registrato un indirizzo e-mail.
    .remedy = Registra un indirizzo e-mail del titolare, oppure consegna il codice di persona.
error-email-gateway-failed = Il servizio e-mail non ha accettato il messaggio per la pratica { $reference }.
    .remedy = La pratica è registrata: quando il servizio torna disponibile, genera un nuovo codice da inviare per e-mail.
error-personalisation-closed = PIN e PUK della carta si possono ottenere solo mentre la pratica è abilitata e non ancora emessa.
    .remedy = Se i certificati sono già stati emessi, la carta è già personalizzata: usa il PIN ricevuto.
error-no-personalisation = Per questa pratica l'autorità di registrazione non ha scelto PIN e PUK.
    .remedy = Usa il PIN che hai già per la carta, oppure chiedi all'ufficio di registrazione.
error-holder-needs-cf-or-passport = Per registrare un titolare serve il codice fiscale o il numero di passaporto.
    .remedy = Inserisci il codice fiscale; per chi non lo ha, il numero di passaporto e il paese che lo ha rilasciato.
error-passport-needs-country = Il numero di passaporto richiede il paese che lo ha rilasciato.
    .remedy = Indica il paese con il codice di due lettere (per esempio IT, FR, US).
error-cf-check-letter = L'ultima lettera del codice fiscale non torna: dovrebbe essere { $expected }.
    .remedy = Controlla il codice sul documento; se è davvero così (omocodia), conferma forzandolo.
error-cf-malformed = Il codice fiscale non ha la forma giusta dal carattere { $position } (contando da 0).
    .remedy = Un codice fiscale ha 16 caratteri: 6 lettere, 2 cifre, 1 lettera, 2 cifre, 1 lettera, 3 cifre e 1 lettera.
error-subject-field-refused = Il campo { $field } non può andare in un certificato ({ $reason }).
    .remedy = Riscrivilo senza caratteri di controllo, invisibili o di scrittura speciali, entro la lunghezza ammessa.
error-contact-of-another-holder = Il { $contact } è già registrato per un'altra persona.
    .remedy = Usa un recapito del titolare: i codici e gli SMS vanno lì.
error-unknown-holder = L'autorità di registrazione non conosce questo titolare.
    .remedy = Cerca il titolare per codice fiscale o passaporto, oppure registralo.
error-profile-needs-cf = Senza codice fiscale si può emettere solo il certificato di firma.
    .remedy = Scegli il profilo firma, oppure registra il codice fiscale del titolare.
error-subject-extras-signature-only = I dati facoltativi (titolo, organizzazione, e-mail) vanno solo nel certificato di firma.
    .remedy = Scegli un profilo con la firma, oppure togli i dati facoltativi.
error-organization-one-identifier = Per l'organizzazione indica la partita IVA oppure il codice fiscale, non entrambi.
    .remedy = Lascia uno solo dei due identificativi.
error-organization-vat-invalid = La partita IVA dell'organizzazione non è valida.
    .remedy = Controlla le 11 cifre: l'ultima è una cifra di controllo.
error-organization-needs-identifier = Organizzazione e suo identificativo vanno indicati insieme.
    .remedy = Indica il nome dell'organizzazione e la sua partita IVA o il suo codice fiscale.
error-email-is-pec = Un indirizzo di posta elettronica certificata (PEC) non va nel certificato.
    .remedy = Registra un indirizzo e-mail ordinario del titolare, oppure non inserirlo nel certificato.
error-certificate-revoked = Il certificato è revocato: la revoca è definitiva.
    .remedy = Per un nuovo certificato serve una nuova pratica.
error-approval-too-late = Il rinnovo non si può più approvare: il modulo è stato firmato il { $signed_at }, oltre 90 giorni fa.
    .remedy = Chiudi il rinnovo senza approvarlo; il titolare può fare una nuova richiesta.
error-nothing-to-approve = Nessun rinnovo di questo certificato attende un'approvazione.
    .remedy = Controlla lo stato del rinnovo nell'elenco dei rinnovi.
error-lifecycle-not-allowed = Questo cambio di stato ({ $action }) non è possibile dallo stato attuale del certificato.
    .remedy = Si sospende un certificato attivo, si riattiva uno sospeso; la revoca è sempre possibile finché non è già revocato.
error-unknown-action = Azione sconosciuta sul certificato.
    .remedy = Le azioni sono: sospendi, riattiva, revoca, approva, rifiuta.
error-certificate-held = Il certificato è sospeso dalla CA in attesa della pratica ({ $why }): l'ufficio non può riattivarlo.
    .remedy = Si riattiva da solo quando la verifica è superata o arrivano gli originali; per sospenderlo su richiesta del titolare usa Sospendi.
error-contact-change-decided = Questo cambio dei recapiti è già stato deciso.
    .remedy = Ricarica la pagina per vedere com'è stato deciso.
error-role-refused = Il tuo ruolo ({ $role }) non prevede questa operazione.
    .remedy = Chiedila a chi ha il ruolo giusto: il responsabile dell'ufficio approva i rinnovi, gli operatori registrano e consegnano.
error-not-identified = Il titolare della pratica { $reference } non è ancora stato identificato.
    .remedy = Completa l'identificazione nella console: il codice d'attivazione si genera dopo.
error-revocation-reason-refused = Il motivo di revoca { $reason } non è tra quelli che un ufficio può indicare.
    .remedy = Usa 0 (non specificato), 1 (chiave compromessa), 3 (cambio di affiliazione), 4 (sostituito), 5 (cessazione dell'attività) o 9 (privilegio ritirato).
error-invalidity-date-refused = La data di compromissione della chiave non è accettabile.
    .remedy = Indicala solo per una chiave compromessa: non nel futuro e non prima dell'inizio di validità del certificato.
error-halves-not-yet = Le seconde metà di PIN e PUK si inviano solo a pratica completata.
    .remedy = Attendi che i certificati siano confermati; poi inviale di nuovo.
error-unknown-channel = Canale sconosciuto per l'invio delle metà.
    .remedy = Scegli SMS (prime metà) o e-mail (seconde metà e codice utente).
error-unknown-state = Stato di rinnovo sconosciuto: { $state }.
    .remedy = Gli stati sono: comunicato, inoltrato, completato, scaduto, cancellato.
error-cf-data-mismatch = Il codice fiscale non corrisponde ai dati del titolare ({ $parts }); dai dati risulta { $expected }.
    .remedy = Correggi i dati o il codice; se il codice è davvero quello del titolare (omocodia, errore dell'anagrafe), conferma «accetta comunque».
error-holder-data-invalid = Dato del titolare mancante o non valido: { $field }.
    .remedy = Indica sesso, data di nascita (AAAA-MM-GG) e luogo di nascita insieme, o nessuno dei tre.
