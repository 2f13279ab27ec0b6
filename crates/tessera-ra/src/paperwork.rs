//! The verification of a request's paperwork by the CA's back office [stati della
//! pratica]: verified (the paper originals are then due within `originals_days`; the
//! certificates issued suspended meanwhile are reactivated; the second halves and the
//! user code go to the holder), to correct (with the reason, back to the office), and the
//! originals received (completed). Nobody verifies a request they registered or
//! identified. Originals not received in time: a reminder, then the certificates are
//! suspended.

use crate::actor::Actor;
use crate::registry::Lifecycle;
use crate::state::Ra;
use crate::store::Transition;
use crate::store::verification::RequestView;

/// Why a decision is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotDecided {
    /// Four eyes: the verifier registered or identified it.
    OwnRequest,
    /// It is not in the state the decision needs (someone decided meanwhile).
    NotWaiting,
    /// A reason is needed to send it back.
    NoReason,
    Internal,
}

fn internal(e: crate::error::Error) -> NotDecided {
    tracing::error!(error = %e, "verification");
    NotDecided::Internal
}

/// Whether `actor` took part in the request (four eyes).
pub fn took_part(actor: &Actor, r: &RequestView) -> bool {
    r.created_by.as_deref() == Some(actor.name.as_str()) || r.identified_by.as_deref() == Some(actor.name.as_str())
}

/// The paperwork is in order: awaiting the originals.
pub async fn verified(ra: &Ra, actor: &Actor, r: &RequestView) -> Result<(), NotDecided> {
    if took_part(actor, r) {
        return Err(NotDecided::OwnRequest);
    }
    // Signed remotely: the signature is the original, there is no paper to wait for.
    let remote = r
        .id_document
        .as_deref()
        .and_then(|j| serde_json::from_str::<crate::store::verification::IdDocument>(j).ok())
        .is_some_and(|d| d.mode == "remote");
    let (to, due) = if remote {
        ("completed", None)
    } else {
        (
            "awaiting-originals",
            Some(time::OffsetDateTime::now_utc().unix_timestamp() + ra.console.originals_days * 86_400),
        )
    };
    let by = actor.event("", "", "");
    if !ra.store.move_request(&r.reference, &["to-verify"], to, None, due, &by).await.map_err(internal)? {
        return Err(NotDecided::NotWaiting);
    }
    // The certificates issued before verification are activated.
    release(ra, &r.reference, "verification", &actor.event("", "", "verification passed")).await;
    ra.completed(&r.reference).await;
    Ok(())
}

/// The paperwork goes back to the office to be corrected.
pub async fn to_correct(ra: &Ra, actor: &Actor, r: &RequestView, reason: &str) -> Result<(), NotDecided> {
    if took_part(actor, r) {
        return Err(NotDecided::OwnRequest);
    }
    if reason.trim().is_empty() {
        return Err(NotDecided::NoReason);
    }
    let by = actor.event("", "", "");
    if !ra
        .store
        .move_request(&r.reference, &["to-verify"], "to-correct", Some(reason.trim()), None, &by)
        .await
        .map_err(internal)?
    {
        return Err(NotDecided::NotWaiting);
    }
    Ok(())
}

/// The paper originals reached the CA.
pub async fn originals_received(ra: &Ra, actor: &Actor, r: &RequestView) -> Result<(), NotDecided> {
    let by = actor.event("", "", "");
    if !ra
        .store
        .move_request(&r.reference, &["awaiting-originals"], "completed", None, None, &by)
        .await
        .map_err(internal)?
    {
        return Err(NotDecided::NotWaiting);
    }
    // Suspended because they were late: reactivated now that they are here.
    release(ra, &r.reference, "originals", &actor.event("", "", "originals received")).await;
    Ok(())
}

/// Reactivate the request's certificates the RA held suspended for `why`, and only those
/// (a suspension the holder or an operator asked for stays).
pub async fn release(ra: &Ra, reference: &str, why: &str, by: &crate::store::audit::Event<'_>) {
    let Ok(serials) = ra.store.held(reference, why).await else { return };
    for serial in serials {
        let t = Transition {
            to: Lifecycle::Active,
            from: &["suspended"],
            invalidity: None,
            held_for: None,
            unheld_only: false,
        };
        if let Err(e) = ra.store.change_lifecycle(&serial, &t, by).await {
            tracing::error!(error = %e, reference, "releasing a held certificate");
        }
    }
}

/// The sweeper's duty: remind the registering operator of originals due soon, and
/// suspend the certificates of requests whose originals did not arrive in time.
pub async fn sweep_originals(ra: &Ra) {
    let Ok((remind, late)) = ra.store.originals_due(ra.console.originals_reminder_days).await else { return };
    for (reference, _, due) in remind {
        if !ra.store.originals_handled(&reference, 1).await.unwrap_or(false) {
            continue;
        }
        let to = match ra.store.request_view(&reference).await {
            Ok(Some(r)) => match r.created_by {
                Some(name) => ra.store.account(&name).await.ok().flatten().and_then(|a| a.email),
                None => None,
            },
            _ => None,
        };
        let days = (due - time::OffsetDateTime::now_utc().unix_timestamp()) / 86_400;
        let text = format!(
            "Tessera: gli originali della pratica {reference} devono arrivare all'autorità di registrazione entro {days} \
             giorni, altrimenti i certificati saranno sospesi. / The originals of request {reference} are due within \
             {days} days, or its certificates will be suspended."
        );
        let _ = ra.store.audit("ra", "originals-reminder", &reference, &format!("{days} days left")).await;
        if let Some(to) = to {
            let m = crate::gateway::Message::new(
                crate::gateway::Channel::Email,
                &to,
                "Tessera: originali in scadenza",
                &text,
                "",
            );
            let _ = ra.gateway.deliver(m).await;
        }
    }
    for reference in late {
        if !ra.store.originals_handled(&reference, 2).await.unwrap_or(false) {
            continue;
        }
        let now = time::OffsetDateTime::now_utc();
        let by =
            crate::store::audit::Event { actor: "ra", detail: "originals not received in time", ..Default::default() };
        if let Ok(certificates) = ra.store.certificates_of(&reference).await {
            for c in certificates.iter().filter(|c| c.state == "active") {
                if let Some(serial) = crate::api::serial_from_hex(&c.serial) {
                    let t = Transition {
                        to: Lifecycle::Suspended { since: now },
                        from: &["active"],
                        invalidity: None,
                        held_for: Some("originals"),
                        unheld_only: false,
                    };
                    let _ = ra.store.change_lifecycle(&serial, &t, &by).await;
                }
            }
        }
    }
}
