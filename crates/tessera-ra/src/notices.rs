//! The e-mails the RA sends on its own (DOMAIN.md, Renewal): renewal notices from 60 days
//! before expiry (at 60, 30 and 7 days), and, for a renewal still waiting for an operator's
//! approval, a notice a week before the certificate would be suspended.

use crate::gateway::{Channel, Message};
use crate::state::Ra;

/// The renewal notice due for a certificate with `days_left`.
fn renewal_kind(days_left: i64) -> Option<&'static str> {
    match days_left {
        ..0 => None,
        0..=7 => Some("renewal-7"),
        8..=30 => Some("renewal-30"),
        31..=60 => Some("renewal-60"),
        _ => None,
    }
}

impl Ra {
    /// Send the notices due now (each once); how many went.
    pub async fn send_notices(&self) -> usize {
        let now = time::OffsetDateTime::now_utc();
        let Ok(certificates) = self.store.noticeable().await else { return 0 };
        // Rows from before the end of validity was stored: filled in once, so that later
        // sweeps read only the certificates near their expiry.
        let unknown: Vec<(Vec<u8>, i64)> = certificates
            .iter()
            .filter(|c| c.not_after.is_none())
            .map(|c| (c.serial.clone(), crate::store::notices::not_after(&c.der).unwrap_or(0)))
            .collect();
        if let Err(e) = self.store.keep_not_after(&unknown).await {
            tracing::error!(error = %e, "storing certificates' end of validity");
        }
        let mut sent = 0;
        for c in certificates {
            let Ok(summary) = tessera_pki::CertificateSummary::parse(&c.der, now) else { continue };
            let kind = match c.approval_due {
                Some(due) if due - now.unix_timestamp() <= 7 * 86_400 => Some("approval-suspension"),
                _ => renewal_kind(summary.days_left),
            };
            let Some(kind) = kind else { continue };
            let email = match self.store.holder_of(&c.reference).await {
                Ok(Some(h)) => h.email,
                _ => None,
            };
            // Else the e-mail registered in the request's subject data (configured requests).
            let email = match email {
                Some(e) => Some(e),
                None => {
                    self.store.request(c.reference.as_bytes()).await.ok().flatten().and_then(|e| e.request.holder.email)
                }
            };
            let Some(to) = email else { continue };
            if !self.store.notice_once(&c.serial, kind).await.unwrap_or(false) {
                continue;
            }
            let until = summary.not_after.get(..10).unwrap_or(&summary.not_after).to_owned();
            let text = if kind == "approval-suspension" {
                format!(
                    "Gentile {},\n\nil rinnovo del tuo certificato (pratica {}) attende ancora l'approvazione \
                     dell'ufficio di registrazione: senza, il nuovo certificato sarà sospeso alla scadenza del vecchio, \
                     il {until}. Contatta il tuo ufficio.",
                    summary.common_name, c.reference
                )
            } else {
                format!(
                    "Gentile {},\n\nil tuo certificato (pratica {}) scade il {until}, tra {} giorni. Puoi rinnovarlo da \
                     ora con Tessera (Rinnova, nella schermata Dispositivi, o tessera renew), o aprendo il collegamento \
                     tessera://renew?serial={} con la carta inserita: il nuovo certificato parte da dove finisce \
                     questo. Dopo la scadenza non si può più rinnovare.",
                    summary.common_name,
                    c.reference,
                    summary.days_left,
                    crate::store::hex(&c.serial)
                )
            };
            let subject = if kind == "approval-suspension" {
                "Tessera: rinnovo in attesa di approvazione"
            } else {
                "Tessera: il tuo certificato va rinnovato"
            };
            if self.gateway.deliver(Message::new(Channel::Email, &to, subject, &text, "")).await {
                sent += 1;
            }
        }
        sent
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn renewal_notices_fall_at_60_30_and_7_days() {
        let kinds: Vec<_> = [61, 60, 31, 30, 8, 7, 0, -1].map(super::renewal_kind).to_vec();
        assert_eq!(
            kinds,
            [
                None,
                Some("renewal-60"),
                Some("renewal-60"),
                Some("renewal-30"),
                Some("renewal-30"),
                Some("renewal-7"),
                Some("renewal-7"),
                None
            ]
        );
    }
}
