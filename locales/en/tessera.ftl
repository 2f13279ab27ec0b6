# Tessera — English messages.
# Every error: the message gives the cause, the .remedy attribute what to do.

app-title = Tessera
devices-title = Devices
devices-readers = Readers
devices-tokens = Tokens and cards
devices-no-readers = No reader connected.
devices-readers-unavailable = Reader list unavailable.
devices-no-tokens = No token found.
devices-empty-reader = No card inserted
devices-card-unknown = Unknown card
devices-card-known-as = Known as: { $name }
devices-card-conflict = Several catalog entries match: { $candidates }
devices-card-obsolete = Obsolete model: cannot be renewed
devices-atr = ATR
devices-updated = Updated at { $time }
devices-loading = Looking for readers and tokens…
devices-certificates = { $count ->
    [0] No certificates
    [one] 1 certificate
   *[other] { $count } certificates
}
token-serial = Serial
token-module = Module
token-pin-ok = PIN active
token-pin-count-low = PIN: few tries left
token-pin-final-try = PIN: final try
token-pin-locked = PIN locked: the PUK is needed
token-pin-to-be-changed = PIN must be changed
token-pin-not-initialized = PIN not set
token-pin-tries = { $tries ->
    [one] 1 try left
   *[other] { $tries } tries left
}
token-not-initialized = Token not initialised
cert-holder = Holder
cert-cf = Tax code
cert-issuer = Issued by
cert-serial = Serial number
cert-valid-from = Valid from
cert-valid-until = Valid until
cert-key = Key
cert-role-authentication = Authentication (CNS)
cert-role-signature = Qualified signature
cert-role-encryption = Encryption
cert-role-authority = Certification authority
cert-role-other = Other
cert-status-valid = Valid · { $days } days
cert-status-renewable = Renewable · expires in { $days } days
cert-status-expired = Expired { $days } days ago
cert-status-not-yet-valid = Not yet valid
cert-key-present = private key present
cert-key-not-visible = private key protected (visible after PIN)
cert-key-missing = no private key on this device
prompt-user-pin = User PIN of "{ $token }"
prompt-so-pin = PUK (administrator PIN) of "{ $token }"
prompt-new-pin = New PIN for "{ $token }"
prompt-management-key = Card management key of "{ $token }" (hex)
language = Language
error-title = Problem
event-reader-attached = Reader connected: { $reader }
event-reader-detached = Reader disconnected: { $reader }
event-card-inserted = Card inserted in { $reader }
event-card-removed = Card removed from { $reader }

error-pcsc-not-running = The smart-card service (pcscd) is not running.
    .remedy = Start the service (on Linux: "sudo systemctl start pcscd") and try again; Tessera retries by itself every few seconds.
error-pcsc-failed = The smart-card service answered with an error: { $reason }.
    .remedy = Unplug and plug the reader back in; if it persists, restart the pcscd service.
error-no-readers = No smart-card reader is connected.
    .remedy = Connect the reader or USB token: it will show up here by itself.
error-card-removed = The card was taken out of reader "{ $reader }" while it was being read.
    .remedy = Insert the card again and wait until the reader's light stops blinking.
error-module-missing = The PKCS#11 module "{ $module }" is not installed.
    .remedy = Install the device's middleware, or give the module's correct path.
error-card-module-missing = The card "{ $card }" needs the PKCS#11 module "{ $module }", which is not installed.
    .remedy = Install the middleware named by the card's supplier (for CNS cards OpenSC is often enough), then insert the card again.
error-module-load-failed = The PKCS#11 module "{ $module }" does not start: { $reason }.
    .remedy = Reinstall the device's middleware; check that it is built for this system (64-bit).
error-token-removed = The token "{ $token }" was removed while it was being read.
    .remedy = Insert the device again: the list updates by itself.
error-pkcs11-failed = The token "{ $token }" answered with an error ({ $function }: { $rv }).
    .remedy = Remove and insert the device again; if it recurs, export the error file and send it to support.
error-catalog-invalid = The card catalog file "{ $file }" is invalid: { $reason }.
    .remedy = Fix or remove that file (TESSERA_DRIVERS folder).
error-catalog-conflict = ATR { $atr } matches several catalog models: { $candidates }.
    .remedy = The card catalog needs fixing: report the ATR to support.
error-certificate-unreadable = A certificate on token "{ $token }" ({ $object }) cannot be read: { $reason }.
    .remedy = The certificate is damaged: a renewal or a new issuance will replace it.
error-unknown = Unexpected error ({ $code }).
    .remedy = Try again; if it recurs, export the error file and send it to support.
error-invalid-uri = "{ $uri }" is not a valid PKCS#11 URI: { $reason }.
    .remedy = Copy the URI from "tessera devices" (it starts with "pkcs11:").
error-token-not-found = No token matches { $uri }.
    .remedy = Insert the card or token; "tessera devices" shows the tokens present and their URIs.
error-token-ambiguous = { $count } tokens match { $uri }.
    .remedy = Add the token's serial number to the URI (serial=…).
error-wrong-pin = Wrong PIN. { $state ->
        [ok] More tries are left before the PIN locks.
        [count-low] The token reports that few tries are left.
        [final-try] One try is left: another mistake locks the PIN.
        [locked] The PIN is now locked.
       *[other] The token reports no limit on tries.
    }
    .remedy = Check the PIN (first half received by SMS or on paper, second half by e-mail) and try again.
error-pin-locked = The PIN is locked.
    .remedy = Unblock it with the PUK ("tessera pin unblock"); if the PUK is locked too, a new card is needed.
error-pin-final-try = One PIN try is left: Tessera does not spend it without confirmation.
    .remedy = If you are sure of the PIN, repeat with the final-try confirmation (--final-try); otherwise unblock with the PUK.
error-pin-rejected = The token does not accept the new PIN.
    .remedy = Choose a PIN of the length the device requires (usually 4 to 8 digits).
error-key-not-protected = The token made an unprotected key ({ $reason }): { $deleted ->
        [yes] it was deleted.
       *[no] the token would not let it be deleted; do not use it.
    }
    .remedy = This device does not guarantee that keys stay on the card: use a certified card or token.
error-id-in-use = Objects with id { $id } already exist on the token.
    .remedy = Let Tessera choose the id, or give a free one.
error-key-not-found = No key pair matches { $uri }.
    .remedy = Check the key's id with "tessera devices", or generate a new one.
error-certificate-key-mismatch = The certificate "{ $certificate }" does not match key { $key }: nothing was written.
    .remedy = Install the certificate issued for this key (the answer to its own request).
error-certificate-exists = A certificate is already stored next to key { $id }: it is not overwritten.
    .remedy = To replace it use renewal, which keeps the current certificate until the new one is installed and verified.
error-object-not-found = No object matches { $uri }.
    .remedy = Check the URI with "tessera devices".
error-selector-too-broad = The URI { $uri } names neither an id nor a label: Tessera does not delete objects blindly.
    .remedy = Name the object to delete with id=… or object=….
error-algorithm-unsupported = The card "{ $card }" cannot generate { $algorithm } keys.
    .remedy = Choose one of the algorithms the card supports (see the card catalog).
error-csr-failed = The certificate request is not valid: { $reason }.
    .remedy = Try again; if it recurs, export the error file and send it to support.
error-certificate-invalid = The file holds no readable certificate: { $reason }.
    .remedy = Use the certificate in PEM or DER form received from the registration authority.
error-puk-low = The card's PUK has { $tries_left ->
        [0] no tries left
        [one] only one try left
       *[other] { $tries_left } tries left
    }: Tessera does not spend the last one, because with the PUK locked the PIN could never be unblocked again.
    .remedy = Contact your registration authority: nothing was overwritten on the card.
error-wrong-puk = Wrong PUK.
    .remedy = Check the PUK (first half received by SMS or on paper, second half by e-mail); after too many mistakes the PUK locks too.
error-card-command-failed = The card in reader "{ $reader }" refused a command (code { $sw }).
    .remedy = Insert the card again and retry; if it recurs, export the error file and send it to support.
error-management-key-rejected = The card does not accept the management key given.
    .remedy = Check the management key (24 bytes in hex) with whoever prepared the card.
error-management-key-needed = On this card keys are generated with its management key.
    .remedy = Give the card's management key (--management-key).
error-input-failed = Could not read or write: { $reason }.
    .remedy = Check the file path and its permissions, or type the PIN at the terminal (or pass it with --pin-stdin).

## New activation
ask-activation-code = Activation code (received by e-mail or from the operator)
ask-tax-code = Holder's tax code (codice fiscale) or passport number
ask-otp = Code received by SMS at { $mobile } (empty for a new SMS, possible after { $resend_after } seconds)
ask-operator-name = Operator account name
ask-operator-password = Password of account { $name }
ask-operator-code = One-time code from your authenticator app
ask-confirm-counter-request = Request { $reference } of { $holder } (office { $office }), profile { $profile }: activate it at the counter and make the keys on card "{ $token }"? [y/n]
ask-confirm-request = Request of { $holder }, profile { $profile }: make the keys on card "{ $token }"? [y/n]
notice-cf-check-letter = Tax code { $code } has the wrong check letter: it should end in { $expected }.
notice-cf-malformed = The tax code does not have the right form (character { $position }).
role-signature = qualified signature
role-authentication = CNS authentication
step-arm = Enabling the request
step-check-card = Checking the card
step-generate = Generating the key pair on the card ({ $role })
step-issue = Requesting the certificate, signed on the card ({ $role })
step-verify = Checking the certificate received ({ $role })
step-install = Writing the certificate on the card ({ $role })
step-confirm = Confirming to the registration authority ({ $role })
progress-started = …
progress-done = done
progress-resumed = already done by an earlier run
progress-failed = failed
activation-done = Activation complete: request { $reference }, { $holder }.
activation-certificate = { $role } certificate: { $holder }, valid until { $not_after }.
activation-suspended = The certificate is issued suspended: the registration office activates it once it has checked the paperwork.
activation-next = You will receive by e-mail the second half of the PIN and PUK and the user code, which you need to suspend or revoke the certificates.

error-ra-unreachable = The registration authority ({ $url }) does not answer: { $reason }.
    .remedy = Check the Internet connection and try again: the activation resumes where it stopped.
error-ra-answer-malformed = The registration authority's answer is not valid: { $reason }.
    .remedy = Try again later; if it recurs, save the error file and send it to support.
error-cmp-rejected = The certification authority refused the request: { $text }.
    .remedy = Check the activation code; if the refusal recurs, contact the registration office with the error file.
error-answer-not-authentic = The answer received is not protected by the activation code: it is not used.
    .remedy = Someone between you and the registration authority alters the messages, or the address is wrong: check the server address and the network.
error-certificate-for-another-key = The certificate received is not for the key made on the card: it was refused and not written.
    .remedy = Run the activation again; if it recurs, contact the registration office.
error-certificate-untrusted = The certificate received does not lead to the expected certification authority ({ $reason }): it was refused and not written.
    .remedy = Check the authority's certificate configured (--ra-ca); if it is right, contact support.
error-card-unsuitable = The card "{ $card }" cannot take the { $profile } profile: { $reason }.
    .remedy = Use a card that supports the keys needed and has room for them, or renew the certificates already on it.
error-profile-unknown = Unknown certificate profile: { $profile }.
    .remedy = Update Tessera; if the problem remains, contact the registration office.
error-no-token = No card or token is inserted.
    .remedy = Insert the card in the reader (or plug in the token) and try again.
error-cancelled = Cancelled: nothing half-done was written on the card.
    .remedy = Try again whenever you like: the activation resumes where it stopped.
error-storage-failed = Cannot read or write { $path }: { $reason }.
    .remedy = Check the free space and the permissions of Tessera's data folder.
error-already-activated = Request { $reference } was already activated on this computer.
    .remedy = The certificates are on the card: see the Devices screen.
error-activation-refused = Wrong activation code or tax code.
    .remedy = Check the code received by e-mail and the tax code; after five mistakes the request locks.
error-request-locked = The request is locked after too many wrong tries.
    .remedy = Contact the registration office: an operator can unlock it or give you a new code.
error-otp-wrong = The SMS code is wrong.
    .remedy = Check the latest SMS received; after five mistakes the request locks.
error-otp-expired = The SMS code has expired (it lasts 5 minutes).
    .remedy = Ask for a new SMS (empty answer) and type the new code.
error-otp-resend-too-soon = A new SMS can be asked for in { $wait } seconds.
    .remedy = Wait a few seconds and ask again.
error-no-otp = No SMS code was sent for this request.
    .remedy = Start the activation again from the activation code.
error-no-mobile = No mobile number is registered for this request.
    .remedy = Activate at the registration office, or ask them to register your mobile.
error-unknown-request = The registration authority does not know this request (or it is not your office's).
    .remedy = Check the activation code or, at the counter, the request's reference in the console.
error-already-issued = Request { $reference } already has its certificates.
    .remedy = The certificates were already issued: if the card lacks them, contact the registration office.
error-rate-limited = Too many requests in a short time.
    .remedy = Wait { $retry_after } seconds and try again.
error-operator-unauthenticated = You have no valid access to the registration authority (a wrong credential, a closed session or a disabled account).
    .remedy = Sign in again with your name, password and one-time code; if the account is disabled, ask your office's supervisor.
error-operator-session-ended = The operator's session has ended (idle too long, expired, signed out, or the account disabled).
    .remedy = Sign in again with your name, password and one-time code: the activation goes on from where it stopped.
error-sign-in-refused = Sign-in failed: the name, the password or the one-time code is wrong.
    .remedy = Check all three and use the code your authenticator app shows now; after five wrong tries the account waits a few minutes.
error-sign-in-code-reused = This one-time code was already used.
    .remedy = Wait for the next code in your authenticator app (it changes every 30 seconds) and try again.
error-sign-in-waits = Too many wrong sign-ins: the account waits { $minutes } more minutes.
    .remedy = Try again after the wait; if you forgot your password, recover it from the registration console.
error-password-change-required = The account still has the one-time password it was given.
    .remedy = Sign in to the registration console first and choose your own password, then sign in here.
error-sms-gateway-failed = The SMS could not be sent.
    .remedy = Try again in a few minutes; if it recurs, contact the registration office.
error-ra-internal = The registration authority had an internal error.
    .remedy = Try again later: the activation resumes where it stopped.
error-card-reset = Another program reset the card during the operation.
    .remedy = Close the other programs using the card and try again.

## Window: New activation
devices-activate = Activate this card
wizard-title = New activation
wizard-progress = Progress
wizard-start-title = Which card to activate, and how
wizard-link-reference = Request { $reference }, from the link you opened: type this request's activation code.
wizard-token = Card or token
wizard-mode = Mode
wizard-mode-holder = At home (holder)
wizard-mode-holder-hint = Activation code received by e-mail, tax code and SMS code.
wizard-mode-operator = At the counter (operator)
wizard-mode-operator-hint = The operator, signed in to the registration authority, types the code the holder brought: no SMS.
wizard-next = Next
wizard-cancel = Cancel
wizard-confirm = Confirm and make the keys
wizard-confirm-title = Check the request
wizard-confirm-hint = The keys are generated on the card and never leave it.
wizard-holder = Holder
wizard-profile = Profile
wizard-working = Please wait…
wizard-ask-activation-code = Activation code
wizard-ask-tax-code = Holder's tax code (or passport number)
wizard-ask-otp = Code received by SMS
wizard-sign-in-title = Operator sign-in
wizard-sign-in-hint = The same account as the registration console: name, password and the one-time code of your authenticator app. The session stays in memory only and ends by itself when the program is left idle.
wizard-sign-in = Sign in
wizard-counter-confirm-title = Check the request to activate at the counter
wizard-reference = Request
wizard-office = Office
operator-signed-in = Counter: { $name } · office { $office }
operator-sign-out = Sign out
wizard-ask-operator-name = Operator account name
wizard-ask-operator-password = Password
wizard-ask-operator-code = One-time code (authenticator app)
wizard-ask-management-key = Card management key (hex)
wizard-pin-user = Card PIN
wizard-pin-so = Card admin PIN (PUK)
wizard-otp-sent = SMS sent to { $mobile }.
wizard-resend = Send a new SMS
wizard-resend-in = New SMS in { $seconds } s
wizard-cf-valid = Tax code is correct.
wizard-cf-fix = Use { $code }
wizard-cf-passport = Not a tax code: it will be used as a passport number.
wizard-close = Close
wizard-retry = Try again
wizard-failed-title = Activation not completed
profile-signature = Qualified signature
profile-cns-authentication = CNS authentication
profile-cns-signature = CNS and qualified signature (two certificates)
wizard-save-error-file = Save error file
wizard-error-file-saved = Error file saved to { $path }: attach it to your support request. It holds no PIN, PUK, code or key.
error-middleware-cannot-activate = The card software installed, { $middleware }, can only do this with the card "{ $card }": { $can }. It cannot generate keys or write certificates: nothing was done on the card.
    .remedy = { $install ->
        [none] No software is known to activate this card on this system: use another computer or ask the registration office.
       *[other] Install the card maker's software: { $install }. Then insert the card again and retry.
    }
step-personalise = Setting the PIN and PUK chosen by the registration authority on the new card
ask-choose-token = Several cards or tokens are present: which one to activate? { $tokens } (number or name)
wizard-ask-choose-token = Card or token to activate (number or name)
ask-confirm-final-try = The PIN of "{ $token }" has one try left: if it is wrong, the PIN locks and the PUK is needed. Go on? [y/n]
wizard-final-try-title = Last PIN try
wizard-final-try-go = I am sure of the PIN, go on
wizard-final-try-stop = Stop

## Renewal diagnostics (tessera diagnose; the renewal wizard's first screen)
diag-title = Renewal diagnostics for { $token } ({ $card }), before any PIN:
diag-certificate = { $role }: { $subject }, valid until { $not_after }
diag-verdict-pass = This certificate can be renewed.
diag-verdict-warn = This certificate can be renewed; read the warnings above first.
diag-verdict-fail = This certificate cannot be renewed now: see the causes above.
diag-no-certificate = No certificate on this card is one renewal replaces (authentication or signature).
diag-card-model-known = Card model known: { $card }.
diag-card-model-unknown = The card model is not in Tessera's catalog ({ $token }): renewal may still work; if it fails, send the error file.
diag-card-model-obsolete = { $card } is an obsolete model: it cannot be renewed. Ask your registration office for a new card.
diag-card-model-not-renewable = { $card }: its certificates are renewed by their own issuer, not here. Ask the office that gave you the card.
diag-middleware-can-renew = The card software ({ $module }) can create keys and write certificates on this card.
diag-middleware-cannot-write = The card software { $middleware } can only { $can } on this card: renewal needs one that creates keys and writes. Install { $install }.
diag-middleware-other = The card software cannot be used for renewal: { $reason }.
diag-pin-ok = PIN: all tries left.
diag-pin-count-low = PIN: a wrong PIN was entered since the last right one. Type it carefully.
diag-pin-final-try = PIN: one try left. Renewal stops here so as not to lock the card: unblock or change the PIN with the PUK first (tessera pin unblock).
diag-pin-locked = PIN locked. Unblock it with the PUK (tessera pin unblock), then renew.
diag-pin-to-be-changed = The PIN must be changed before use (tessera pin change), then renew.
diag-pin-not-initialized = The card has no PIN yet: it needs a new activation, not a renewal.
diag-card-in-use-free = No other program is holding the card.
diag-card-in-use-busy = Another program holds the card in { $reader } (the system does not say which): close the other signing or card programs and try again.
diag-card-in-use-unknown = Could not tell whether another program holds the card: { $reason }.
diag-middleware-cache-none = No card software cache will show stale objects.
diag-middleware-cache-present = OpenSC keeps a file cache ({ $dir }): after renewal Tessera clears it for this card so the new certificates show.
diag-ra-reachable = The registration authority answers ({ $url }), with its certificate trusted.
diag-ra-unreachable = The registration authority ({ $url }) cannot be reached: { $reason }. Check the connection, or the RA address and certificate in the settings.
diag-decryption-key-kept = This card also holds a decryption key ({ $certificates }): renewal keeps it and its certificate, so your encrypted files stay readable.
diag-renewal-window-open = Renewal is open: { $days } days left (until { $not_after }); the new certificate starts where this one ends.
diag-renewal-window-not-yet = Renewal opens 60 days before expiry, in { $opens_in } days (valid until { $not_after }).
diag-renewal-window-expired = Expired on { $not_after }: an expired certificate cannot be renewed. A new activation (a new card) is needed.
diag-renewal-window-not-valid-yet = This certificate is not valid yet (check the computer's clock).
diag-key-algorithm-accepted = Key { $key }: still accepted.
diag-key-algorithm-too-weak = Key { $key }: too weak, the CA no longer accepts it: a new activation is needed.
diag-key-algorithm-card-makes-none = Key { $key }: the catalog knows no key type this card can create for the new certificate.
diag-private-key-present = The certificate's key is on the card.
diag-private-key-after-pin = The certificate's key is checked with a test signature after the PIN.
diag-private-key-missing = The certificate's key is not on the card: renewal needs it to sign the request. Use the card that has the key, or a new activation.
diag-private-key-signs = The certificate's key signs: a test signature on the card verifies with the certificate.
diag-private-key-does-not-sign = The key on the card does not match the certificate: its test signature does not verify. Renewal needs the certificate's own key: use the card that has it, or a new activation.
diag-private-key-unusable = The certificate's key could not make a test signature: { $reason }.
diag-room-next-to-old = Room for the new key next to the old one: the old certificate keeps working until the new one is installed.
diag-room-overwrite = This card has a fixed slot for this key: the renewal is authorised with the old key first, then the slot is overwritten; an interruption resumes to the end.
diag-ra-renewal-open = The registration authority can renew this certificate.
diag-ra-renewal-approval = The registration authority can renew this certificate; an operator then approves the renewal (the new certificate works at once, and is suspended if not approved by the old one's expiry).
diag-ra-renewal-superseded = The registration authority has already renewed this certificate: put the new certificate on the card with tessera renew on the card that holds it, or ask your registration authority.
diag-ra-renewal-suspended = This certificate is suspended at the registration authority: it cannot be renewed until it is reactivated. Ask your registration authority.
diag-ra-renewal-revoked = This certificate is revoked: it cannot be renewed. A new activation is needed.
diag-ra-renewal-unknown = The registration authority does not know this certificate (another authority issued it): ask the one that did.
diag-ra-renewal-unanswered = The registration authority did not say whether this certificate can be renewed: { $reason }.
diag-ra-renewal-contact-conflict = Your { $field ->
        [mobile] mobile number
       *[other] e-mail address
    } is registered at the registration authority to another person: give a new one in the renewal, confirmed by the code you will receive, before signing the form.

## Renewal (tessera renew)
step-diagnose = Checking whether the card can be renewed
step-retire = Removing the old key and certificate, now that the new ones work ({ $role })
notify-renewal-title = Tessera: renew your certificate
notify-renewal-body = The { $role } certificate of { $holder } (card "{ $token }") expires in { $days } days, on { $date }. Renew it from Tessera's Devices screen, with the card inserted.
notify-expired-body = The { $role } certificate of { $holder } (card "{ $token }") expired on { $date }: it can no longer be renewed. A new activation is needed.
ask-sign-renewal-form = Accept the general terms (version { $contract_version }) and sign the renewal form with the expiring certificate? [y/n]
step-sign-form = Signing the renewal form with the expiring certificate
wizard-overwrite-title = The new key takes the old key's place
wizard-overwrite-go = Go on
wizard-overwrite-stop = Not now
wizard-renewal-code = Renewal code sent to { $to }
wizard-renewal-code-hint = This card's renewal stopped after its key was replaced: the code you received when you authorised it completes it.
wizard-resend-code = Send it to me again
wizard-resend-code-in = Again in { $seconds } s
step-authorise = Authorising the new key to take the old key's slot
ask-confirm-overwrite = On "{ $token }" the new key takes the old key's slot: the certificate { $certificate } stops working as soon as the slot is overwritten, until the new one is installed. The renewal is authorised with the old key first, so it always completes, even if interrupted. Go on? [y/n]
ask-renewal-code = Renewal code sent to { $to } (empty to have it sent again)
ask-contacts = Contacts for the renewal
ask-contact-code = Code sent { $channel ->
        [mobile] by SMS to
       *[other] by e-mail to
    } { $to }
renewal-contacts = Registered contacts: mobile { $mobile }, e-mail { $email }.
renewal-contact-none = —
wizard-contacts-title = Your contacts
wizard-contacts-hint = These are the ones registered at the registration authority. To change them, type the new ones: the change is signed with your card and confirmed by the code you will receive on each.
wizard-contacts-mobile = New mobile
wizard-contacts-email = New e-mail
wizard-contacts-email-fixed = The e-mail is the certificate's: the registration authority changes it.
wizard-contacts-keep = Keep them
wizard-contacts-change = Change contacts
wizard-contacts-current = Now: mobile { $mobile }, e-mail { $email }
renewal-contract-heading = General terms (version { $version }):
renewal-form-heading = Renewal form to sign:
renewal-policy-approval = Your registration centre approves renewals: the new certificate works at once, but if it is not approved by the old one's expiry it is suspended.
renewal-contract-other-version = The general terms are now version { $version }, not { $accepted } accepted with --accept-contract: read them and try again.
wizard-renewal-form-title = Terms and renewal form
wizard-renewal-form-sign = Accept and sign
wizard-diagnostics-summary = Checks before the PIN: { $passed } passed{ $warnings ->
        [0] {""}
       *[other] , { $warnings } to note
    }{ $failures ->
        [0] {""}
       *[other] , { $failures } stopping the renewal
    }
error-renewal-key-mismatch = The key on the card does not sign for the certificate { $certificate }: { $reason }.
    .remedy = The card does not hold this certificate's key: use the right card, or ask for a new activation.
error-begun-on-another-card = The activation of request { $reference } was begun on another card.
    .remedy = Insert the card it was begun on (its key is there) and try again: it goes on from where it stopped.
error-batch-no-card = There was no free card for request { $reference }.
    .remedy = Insert another card without certificates and run a batch with this request.
batch-start = Activating { $cards } cards for { $requests } requests, all at once:
batch-confirm = Start these activations? [y/n]
batch-done = { $done } of { $all } cards activated.
error-link-refused = This is not a valid Tessera link, and it was not opened.
    .remedy = Use the link from the registration authority's e-mail or from the console as it is; or open Tessera and choose what to do with its buttons.
error-link-carries-code = The link contains a code: Tessera takes no codes from links and did not open it.
    .remedy = No Tessera link contains the activation code, the PIN or an SMS code: type them in the window yourself. A message that asks you to open a link with your code may not come from your registration authority.
error-link-reference-mismatch = The code typed is for request { $found }, but the link was for request { $expected }.
    .remedy = Check that you use the code from the e-mail with the link; with two requests, activate them one at a time with their own code.
error-link-certificate-absent = Certificate { $serial } from the link is on no inserted card.
    .remedy = Insert the card with that certificate and open the link again, or use Renew next to the certificate on the Devices screen.
error-link-certificate-not-renewable = Certificate { $serial } from the link cannot be renewed here: it is not expiring, it was already renewed, or its key is not on the card.
    .remedy = See the certificate's state on the Devices screen; if you think it should be renewed, ask your registration office.
error-form-signature-refused = The registration authority did not accept the renewal form's signature: { $reason }.
    .remedy = Try the renewal again; if it happens again, send the error file to your registration authority.
error-contract-changed = The general terms changed (now version { $version }) while you were signing.
    .remedy = Try the renewal again to read and accept the new version.
error-renewal-not-waiting = This renewal request no longer waits for a signature (state: { $state }).
    .remedy = Try the renewal again: if it was cancelled, a new one opens.
error-not-renewable = This certificate cannot be renewed (state: { $state }).
    .remedy = Run tessera diagnose on the card: it says why and what to do.
error-renewal-not-open = Renewal opens 60 days before expiry, in { $opens_in } days.
    .remedy = Try again when renewal is open: Tessera reminds you.
error-certificate-expired = The certificate has expired: it can no longer be renewed.
    .remedy = A new activation, with a new request, is needed.
error-unknown-renewal = The registration authority does not know this renewal request.
    .remedy = Start the renewal again.
error-bad-serial = The certificate's serial number is not valid.
    .remedy = Send the error file to your registration authority.
error-contact-data-conflict = Your { $field ->
        [mobile] mobile number
       *[other] e-mail address
    } is registered to another person.
    .remedy = Give a new contact in the renewal (in the window, or with tessera renew --mobile / --email); if it really is yours, ask your registration authority to correct the other registration.
error-contact-signature-refused = The registration authority did not accept the signature of the contact change: { $reason }.
    .remedy = Try the renewal again with the card of the expiring certificate.
error-contact-invalid = { $field ->
        [mobile] The new mobile is not a valid number (it needs the country code, e.g. +39 333 1234567).
        [email] The new e-mail is not a valid address.
       *[other] No new contact was given.
    }
    .remedy = Correct the contact and try again.
error-contact-in-certificate = Your e-mail is the one written in the certificate: it cannot change in a renewal.
    .remedy = Ask your registration authority to update your data, then renew.
error-contact-taken = { $field ->
        [mobile] This mobile number is
       *[other] This e-mail address is
    } registered to another person.
    .remedy = Give a contact of your own; if it really is yours, ask your registration authority to correct the other registration.
error-no-contact-change = There is no contact change to confirm.
    .remedy = Try the renewal again and give the contacts to change once more.
error-contact-codes-spent = The code was wrong { $tries } times, or it expired (it is good for 5 minutes): the contact change is cancelled.
    .remedy = Try the renewal again: you will get a new code.
error-contact-code-wrong = Wrong code: { $tries_left ->
        [one] one try left
       *[other] { $tries_left } tries left
    }.
    .remedy = Check the code received on the new contact and type it again.
error-overwrite-signature-refused = The registration authority did not accept the signature authorising the key's replacement: { $reason }.
    .remedy = Try the renewal again with the card of the expiring certificate: nothing was overwritten.
error-renewal-not-forwarded = The renewal form is not signed (state: { $state }).
    .remedy = Try the renewal again: the form is shown and signed before the key is replaced.
error-no-contact-for-code = The registration authority has neither a mobile nor an e-mail of yours to send the renewal code to.
    .remedy = Ask your registration authority to register a contact of yours, then renew: nothing was overwritten.
error-overwrite-not-authorised = Replacing the key is not authorised for this renewal.
    .remedy = Try the renewal again from the start.
error-renewal-code-wrong = Wrong renewal code.
    .remedy = Check the code you received when you authorised the renewal and type it again; after five mistakes there is a wait of a few minutes.
error-renewal-code-wait = Too many wrong renewal codes: try again in { $wait } seconds.
    .remedy = Wait, then type the code you received when you authorised the renewal (you can ask for it again).
error-renewal-overwrite-authorised = This renewal has already authorised replacing the key on the card: it cannot be cancelled.
    .remedy = The holder completes it with the renewal code; only that gives their card a working key again.
error-renewal-closed = This renewal request is no longer open (state: { $state }).
    .remedy = Nothing to cancel.
error-overwrite-proof = Invalid authorisation request.
    .remedy = Send the error file to your registration authority.
error-code-resend-too-soon = The code was just sent: you can ask for it again in { $wait } seconds.
    .remedy = Wait a few seconds, then ask again.
error-unknown-certificate = The registration authority does not know this certificate.
    .remedy = Check that the card's certificate was issued by this registration authority.
error-renewal-blocked = The renewal cannot go on: the check "{ $check }" failed.
    .remedy = Run tessera diagnose on this card: it says why and what to do.
error-choose-certificate = Several certificates on this card can be renewed: { $candidates }.
    .remedy = Say which with --certificate and its URI.
error-nothing-to-renew = No certificate on { $token } is one a renewal replaces.
    .remedy = Check the card chosen; a card without certificates needs a new activation.
error-validity-not-continuing = The new certificate starts { $starts }, not where the old one ends ({ $ends }): it was not installed.
    .remedy = Send the error file to your registration authority; the old certificate keeps working.
renewal-done = Renewed: { $subject }, valid from { $not_before } to { $not_after }.
renewal-retired = The old certificate ({ $serial }) and its key were removed from the card.
renewal-kept = The old certificate ({ $serial }) stays on the card and keeps working until the new one begins.

## Renewal reminders (tessera status; the Devices screen)
status-none = No certificate seen on this computer needs renewing within 60 days.
status-due = The { $role } certificate of { $holder } (card "{ $token }"{ $present ->
        [yes] {""}
       *[no] , not inserted
    }): expires in { $days } days ({ $not_after }). Renew it with Renew on its card in the Devices screen, or tessera renew.
status-expired = The { $role } certificate of { $holder } (card "{ $token }"): expired on { $not_after }. It can no longer be renewed: a new activation is needed.
reminders-title = Renewal reminders
renewal-title = Renewal
devices-renew = Renew
diag-renewal-window-already-renewed = Already renewed: the card holds its successor, which takes over on { $not_after }.
cert-status-renewed = Renewed · works for { $days } more days, then its successor
cert-status-successor = Renewal · valid from { $date }

# Refusals of the registration authority (JSON API), to operators too.
error-malformed-json = The request is not valid JSON: { $reason }.
    .remedy = Correct the request body and try again.
error-json-content-type = The request is not application/json.
    .remedy = Send the body as JSON with the header Content-Type: application/json.
error-json-fields = The request lacks a field, or a field has the wrong type: { $reason }.
    .remedy = Check the required fields in the API description (openapi.json).
error-activation-session-invalid = The SMS session is no longer valid.
    .remedy = Start the activation again from the activation code: a new SMS will be sent.
error-no-email = No e-mail address is registered for this holder.
    .remedy = Register the holder's e-mail address, or hand the code over in person.
error-email-gateway-failed = The e-mail service did not take the message for request { $reference }.
    .remedy = The request is registered: once the service is back, make a new code to send by e-mail.
error-personalisation-closed = The card's PIN and PUK can be had only while the request is enabled and not yet issued.
    .remedy = If the certificates were already issued, the card is personalised: use the PIN you received.
error-no-personalisation = The registration authority chose no PIN and PUK for this request.
    .remedy = Use the PIN you already have for the card, or ask the registration office.
error-holder-needs-cf-or-passport = A holder is registered with a tax code or a passport number.
    .remedy = Enter the tax code; for someone without one, the passport number and its issuing country.
error-passport-needs-country = A passport number needs the country that issued it.
    .remedy = Give the country as its two-letter code (for example IT, FR, US).
error-cf-check-letter = The tax code's last letter does not match: it should be { $expected }.
    .remedy = Check the code on the document; if it really is so (omocodia), confirm it by forcing it.
error-cf-malformed = The tax code is not of its form from character { $position } (counting from 0).
    .remedy = A tax code has 16 characters: 6 letters, 2 digits, 1 letter, 2 digits, 1 letter, 3 digits and 1 letter.
error-subject-field-refused = The field { $field } cannot go into a certificate ({ $reason }).
    .remedy = Write it again without control, invisible or special writing characters, within the allowed length.
error-contact-of-another-holder = The { $contact } is already registered to another person.
    .remedy = Use a contact of the holder's own: codes and SMS go there.
error-unknown-holder = The registration authority does not know this holder.
    .remedy = Search the holder by tax code or passport, or register them.
error-profile-needs-cf = Without a tax code only the signature certificate can be issued.
    .remedy = Choose the signature profile, or register the holder's tax code.
error-subject-extras-signature-only = The optional data (title, organisation, e-mail) go in the signature certificate only.
    .remedy = Choose a profile with the signature, or leave the optional data out.
error-organization-one-identifier = Give the organisation's VAT number or its tax code, not both.
    .remedy = Keep only one of the two identifiers.
error-organization-vat-invalid = The organisation's VAT number is not valid.
    .remedy = Check the 11 digits: the last one is a check digit.
error-organization-needs-identifier = An organisation and its identifier go together.
    .remedy = Give the organisation's name and its VAT number or tax code.
error-email-is-pec = A certified-mail (PEC) address does not go into a certificate.
    .remedy = Register an ordinary e-mail address of the holder, or leave it out of the certificate.
error-certificate-revoked = The certificate is revoked: revocation is final.
    .remedy = A new certificate needs a new request.
error-approval-too-late = The renewal can no longer be approved: its form was signed on { $signed_at }, over 90 days ago.
    .remedy = Close the renewal without approving it; the holder can ask again.
error-nothing-to-approve = No renewal of this certificate waits for an approval.
    .remedy = Check the renewal's state in the list of renewals.
error-lifecycle-not-allowed = This change ({ $action }) is not possible from the certificate's current state.
    .remedy = An active certificate is suspended, a suspended one reactivated; revocation is always possible until it is revoked.
error-unknown-action = Unknown action on the certificate.
    .remedy = The actions are: suspend, reactivate, revoke, approve, refuse.
error-certificate-held = The CA holds the certificate suspended for the request's paperwork ({ $why }): the office cannot reinstate it.
    .remedy = It is reinstated by itself when the verification passes or the originals arrive; to suspend it at the holder's request, use Suspend.
error-contact-change-decided = This contact change was decided already.
    .remedy = Reload the page to see how it was decided.
error-role-refused = Your role ({ $role }) does not do this.
    .remedy = Ask someone with the right role: the office's supervisor approves renewals, operators register and hand over.
error-not-identified = The holder of request { $reference } has not been identified yet.
    .remedy = Complete the identification in the console: the activation code is made afterwards.
error-revocation-reason-refused = Revocation reason { $reason } is not one an office may give.
    .remedy = Use 0 (unspecified), 1 (key compromise), 3 (affiliation changed), 4 (superseded), 5 (cessation of operation) or 9 (privilege withdrawn).
error-invalidity-date-refused = The key compromise date is not acceptable.
    .remedy = Give it only for a compromised key: not in the future and not before the certificate's start.
error-halves-not-yet = The second halves of PIN and PUK are sent only once the request is complete.
    .remedy = Wait until the certificates are confirmed, then send them again.
error-unknown-channel = Unknown channel for the halves.
    .remedy = Choose SMS (first halves) or e-mail (second halves and user code).
error-unknown-state = Unknown renewal state: { $state }.
    .remedy = The states are: communicated, forwarded, completed, expired, cancelled.
error-cf-data-mismatch = The tax code does not match the holder's data ({ $parts }); the data make { $expected }.
    .remedy = Correct the data or the code; if the code really is the holder's (omocodia, a register's mistake), confirm 'accept anyway'.
error-holder-data-invalid = A holder's detail is missing or not valid: { $field }.
    .remedy = Give sex, birth date (YYYY-MM-DD) and birth place together, or none of them.
