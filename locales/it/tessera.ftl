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
token-not-initialized = Token non inizializzato
cert-holder = Titolare
cert-cf = Codice fiscale
cert-issuer = Emesso da
cert-serial = Numero di serie
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
