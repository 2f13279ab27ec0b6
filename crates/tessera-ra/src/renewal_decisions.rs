//! What an office decides about renewals [gestione rinnovi], the same from the JSON API
//! and the console: under the approval policy a renewed certificate works at once and is
//! approved (within 90 days of the renewal form's signature) or refused (revoked for
//! good); an open renewal request is closed without approving it.

use tessera_protocol::refusal::Refusal;

use crate::actor::Actor;
use crate::registry::Lifecycle;
use crate::state::Ra;
use crate::store::Renewal;

fn internal(e: crate::error::Error) -> Refusal {
    tracing::error!(error = %e, "renewal decision");
    Refusal::RaInternal {}
}

/// Approve or refuse the renewed certificate `serial`. Once revoked (120 days after the
/// old certificate's expiry) it is beyond decision.
pub async fn decide(ra: &Ra, actor: &Actor, serial: &[u8], approve: bool) -> Result<(), Refusal> {
    match ra.store.certificate_office(serial).await.map_err(internal)? {
        Some(office) if actor.sees(office.as_deref()) => {}
        _ => return Err(Refusal::UnknownCertificate {}),
    }
    let now = time::OffsetDateTime::now_utc();
    if let Lifecycle::Revoked { .. } = ra.store.lifecycle(serial).await.map_err(internal)?.now(now) {
        return Err(Refusal::CertificateRevoked {});
    }
    if approve {
        let old = ra.store.replaced_by(serial).await.map_err(internal)?.unwrap_or_default();
        if let Some(signed) = ra.store.form_signed_for(&old).await.map_err(internal)?
            && now.unix_timestamp() - signed > crate::registry::APPROVAL_DAYS * 86_400
        {
            let signed_at = time::OffsetDateTime::from_unix_timestamp(signed)
                .ok()
                .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
                .unwrap_or_default();
            return Err(Refusal::ApprovalTooLate { signed_at });
        }
    }
    let by = actor.event("", "", "");
    let decided = if approve { ra.store.approve(serial, &by).await } else { ra.store.refuse(serial, &by).await };
    if decided.map_err(internal)? { Ok(()) } else { Err(Refusal::NothingToApprove {}) }
}

/// The renewal request `id`, if `actor` may see it (their office's).
pub async fn visible(ra: &Ra, actor: &Actor, id: &str) -> Result<Renewal, Refusal> {
    let Some(renewal) = ra.store.renewal(id).await.map_err(internal)? else { return Err(Refusal::UnknownRenewal {}) };
    let request = ra.store.request(renewal.reference.as_bytes()).await.map_err(internal)?;
    if !request.is_some_and(|e| actor.sees(e.office.as_deref())) {
        return Err(Refusal::UnknownRenewal {});
    }
    Ok(renewal)
}

/// Close the renewal request `id` without approving it. A certificate its kur already
/// got, not yet confirmed, goes with it: revoked (kept on record), so its certConf is
/// refused.
pub async fn close(ra: &Ra, actor: &Actor, id: &str) -> Result<(), Refusal> {
    let renewal = visible(ra, actor, id).await?;
    let by = actor.event("", "", "");
    if !ra.store.cancel_renewal(id, &by).await.map_err(internal)? {
        // Authorised to overwrite a fixed-slot card's key: only the renewal gives that card
        // a working key again.
        if renewal.state == "forwarded" && renewal.overwrite_at.is_some() {
            return Err(Refusal::RenewalOverwriteAuthorised {});
        }
        return Err(Refusal::RenewalClosed { state: renewal.state.to_string() });
    }
    for serial in ra.store.unconfirmed_renewals_of(&renewal.serial).await.map_err(internal)? {
        let revoked = Lifecycle::Revoked { at: time::OffsetDateTime::now_utc(), reason: 4 };
        ra.store.set_lifecycle_by(&serial, revoked, &by).await.map_err(internal)?;
    }
    Ok(())
}
