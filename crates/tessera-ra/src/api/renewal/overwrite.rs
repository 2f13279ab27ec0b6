//! Renewing a fixed-slot card (PIV 9A/9C, OpenPGP's signature and authentication keys),
//! whose new key can only take the old key's slot: the renewal is authorised with the
//! expiring key *before* the slot is overwritten, so that it can always be completed
//! afterwards without that key.
//!
//! - `POST /api/v1/renewal/{serial}/overwrite` `{id, signed_authorisation}`: a CAdES .p7m
//!   of `{"renewal": id, "overwrite": true}` signed with the expiring key, on a forwarded
//!   renewal (its form signed). The RA makes the renewal's **renewal code** (the CMP
//!   shared secret with senderKID = the renewal's id), keeps it sealed, sends it to the
//!   holder's mobile (else e-mail) and answers it, with the card's management key where
//!   the RA holds one. Repeated, it answers the same code and sends nothing.
//! - The same with `{id, code}` instead: the renewal code typed back from the SMS (an
//!   interrupted renewal, the old key gone) answers the management key again, also for a
//!   completed renewal whose certConf answer was lost. Wrong codes make the holder's
//!   request wait (as wrong CMP MACs do), they never lock it.
//! - `POST …/overwrite/resend` `{id}`: the code to the holder again (once per 30 s).
//!
//! CMP `ir` and `certConf` protected by PBM with the renewal's id and code then renew the
//! old certificate like kur (endpoint.rs). From the authorisation on, operators cannot
//! cancel the renewal (only it gives that card a working key again), and it lasts
//! `OVERWRITE_DAYS` from the authorisation, whatever the old certificate's end.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use tessera_protocol::refusal::Refusal;
use tessera_protocol::workflow::renewal::{Authorise, CodeResent, Overwrite, OverwriteAuthorisation, RenewalId};

use super::{contacts, renewal_in, signed_by_holder};
use crate::api::{ApiError, ApiResult, JsonBody, Limited, SerialPath, internal};
use crate::gateway::{Channel, Message};
use crate::state::Ra;
use crate::store::Renewal;

/// Seconds between two sendings of the renewal code.
pub const RESEND_SECONDS: i64 = 30;

async fn forwarded(ra: &Ra, serial: &[u8], id: &str) -> ApiResult<Renewal> {
    // The form comes first; a completed renewal has nothing left to authorise.
    renewal_in(ra, serial, id, "forwarded", |state| Refusal::RenewalNotForwarded { state }).await
}

/// Where the renewal code goes: the holder's mobile, else e-mail (masked for the answer).
async fn destination(ra: &Ra, serial: &[u8]) -> ApiResult<(Channel, String, String)> {
    let der = ra.store.certificate_der(serial).await?.ok_or(ApiError::from(Refusal::UnknownCertificate {}))?;
    let (entry, _) =
        ra.store.by_certificate(&der, serial).await?.ok_or(ApiError::from(Refusal::UnknownCertificate {}))?;
    let record = contacts(ra, &entry).await?.record;
    match (record.mobile, record.email) {
        (Some(m), _) => Ok((Channel::Sms, crate::masked::mobile(&m), m)),
        (None, Some(e)) => Ok((Channel::Email, crate::masked::email(&e), e)),
        // Without a contact an interrupted renewal could not be completed: not authorised.
        (None, None) => Err(ApiError::from(Refusal::NoContactForCode {})),
    }
}

async fn send(ra: &Ra, renewal: &Renewal, serial: &[u8], code: &str) -> ApiResult<String> {
    let (channel, masked, to) = destination(ra, serial).await?;
    let text = "Tessera: il codice di rinnovo della tua carta è {secret}. Ti serve solo se il rinnovo si interrompe: \
                Tessera te lo chiede per completarlo.";
    if !ra.gateway.deliver(Message::new(channel, &to, "Tessera: codice di rinnovo", text, code)).await {
        tracing::warn!(renewal = %renewal.id, "the renewal code could not be sent");
    }
    Ok(masked)
}

/// POST …/overwrite: the renewal authorised to overwrite the card's slot.
pub async fn authorise(
    State(ra): State<Arc<Ra>>,
    Limited(client): Limited,
    SerialPath(serial): SerialPath,
    JsonBody(body): JsonBody<Authorise>,
) -> ApiResult<Json<Overwrite>> {
    // To its end even if the client goes away: a renewal code's check, once reserved, is
    // recorded right or wrong.
    tokio::spawn(authorised(ra, client, serial, body)).await.map_err(|_| internal("overwrite authorisation"))?
}

async fn authorised(
    ra: Arc<Ra>,
    client: std::net::IpAddr,
    serial: Vec<u8>,
    body: Authorise,
) -> ApiResult<Json<Overwrite>> {
    let (renewal, code) = match (&body.signed_authorisation, &body.code) {
        (Some(p7m), None) => {
            let renewal = forwarded(&ra, &serial, &body.id).await?;
            let refused =
                |reason: &str| ApiError::from(Refusal::OverwriteSignatureRefused { reason: reason.to_string() });
            let content =
                signed_by_holder(&ra, client, &serial, p7m, |reason| Refusal::OverwriteSignatureRefused { reason })
                    .await?;
            let what: OverwriteAuthorisation =
                serde_json::from_slice(&content).map_err(|_| refused("not an overwrite authorisation"))?;
            if what.renewal != renewal.id || !what.overwrite {
                return Err(refused("signed for another renewal request"));
            }
            // A contact to send the code to, checked before anything is recorded.
            destination(&ra, &serial).await?;
            let fresh = tessera_protocol::activation::canonical_code(
                &crate::codes::random_chars(16).ok_or_else(|| internal("renewal code"))?,
            );
            let sealed = ra.store.seal_code(&renewal.id, &fresh).ok_or_else(|| internal("renewal code"))?;
            let (kept, first) = ra
                .store
                .authorise_overwrite(&renewal.id, &sealed)
                .await?
                .ok_or(ApiError::from(Refusal::RenewalNotForwarded { state: "changed".to_string() }))?;
            let code = ra.store.open_code(&renewal.id, &kept).ok_or_else(|| internal("renewal code"))?;
            if first && ra.store.take_overwrite_send(&renewal.id, RESEND_SECONDS).await?.is_none() {
                send(&ra, &renewal, &serial, &code).await?;
            }
            (renewal, code)
        }
        (None, Some(typed)) => {
            // Forwarded, or completed (a run whose certConf answer was lost needs the code
            // to repeat it), within the authorisation's time.
            let (renewal, kept) = ra
                .store
                .overwrite_code(&body.id)
                .await?
                .filter(|(r, _)| r.serial.eq_ignore_ascii_case(&crate::store::hex(&serial)))
                .ok_or(ApiError::from(Refusal::OverwriteNotAuthorised {}))?;
            let code = ra.store.open_code(&renewal.id, &kept).ok_or_else(|| internal("renewal code"))?;
            // Wrong codes make the holder's request wait, longer each five, as wrong CMP
            // MACs do (the same counters): anyone may try, nobody can lock the holder out.
            match ra.store.take_mac_check(&renewal.reference, ra.wrong_code_wait).await? {
                crate::store::MacCheck::Allowed => {}
                crate::store::MacCheck::Wait(wait) => return Err(Refusal::RenewalCodeWait { wait }.into()),
                crate::store::MacCheck::Busy => return Err(Refusal::RenewalCodeWait { wait: 1 }.into()),
            }
            let typed = tessera_protocol::activation::canonical_code(typed);
            // Compared in constant time, through the keyed index.
            let purpose = format!("{}:renewal-code", renewal.id);
            if !ra.store.code_matches(&purpose, &typed, &ra.store.code_index(&purpose, &code)) {
                ra.failed_from(client);
                ra.store.mac_wrong(&renewal.reference, ra.wrong_code_wait).await?;
                return Err(ApiError::from(Refusal::RenewalCodeWrong {}));
            }
            ra.store.mac_right(&renewal.reference).await?;
            (renewal, typed)
        }
        _ => {
            return Err(ApiError::from(Refusal::OverwriteProof { field: "signed_authorisation".to_string() }));
        }
    };
    let management_key = ra.store.personalisation(&renewal.reference).await?.map(|p| p.management_key);
    let (_, sent_to, _) = destination(&ra, &serial).await?;
    Ok(Json(Overwrite { id: renewal.id, code, sent_to, management_key, resend_after: RESEND_SECONDS }))
}

/// POST …/overwrite/resend: the renewal code to the holder again.
pub async fn resend(
    State(ra): State<Arc<Ra>>,
    Limited(_): Limited,
    SerialPath(serial): SerialPath,
    JsonBody(body): JsonBody<RenewalId>,
) -> ApiResult<Json<CodeResent>> {
    let renewal = forwarded(&ra, &serial, &body.id).await?;
    let (_, kept) =
        ra.store.overwrite_code(&renewal.id).await?.ok_or(ApiError::from(Refusal::OverwriteNotAuthorised {}))?;
    if let Some(wait) = ra.store.take_overwrite_send(&renewal.id, RESEND_SECONDS).await? {
        return Err(ApiError::from(Refusal::CodeResendTooSoon { wait }));
    }
    let code = ra.store.open_code(&renewal.id, &kept).ok_or_else(|| internal("renewal code"))?;
    let sent_to = send(&ra, &renewal, &serial, &code).await?;
    Ok(Json(CodeResent { id: renewal.id, sent_to, resend_after: RESEND_SECONDS }))
}
