//! Certificate lifecycle changes [sospensione, riattivazione, revoca] made by operators,
//! the same from the JSON API and the console: active -> suspended or revoked; suspended
//! -> reactivated or revoked; revoked is final. A revocation carries an RFC 5280 reason
//! (those an office may give) and, for a key compromise, the date the key is known or
//! suspected to have been compromised (the CRL's and OCSP's invalidityDate).

use tessera_protocol::refusal::Refusal;

use crate::actor::Actor;
use crate::registry::Lifecycle;
use crate::state::Ra;

/// The RFC 5280 reasons an office may give for a revocation (certificateHold is a
/// suspension; caCompromise and aACompromise are the CA's; removeFromCRL is not a reason).
pub const REASONS: [u8; 6] = [0, 1, 3, 4, 5, 9];

/// keyCompromise: the only reason that takes an invalidity date.
pub const KEY_COMPROMISE: u8 = 1;

/// What an operator asks for.
#[derive(Debug, Clone, Default)]
pub struct Change<'a> {
    /// suspend, reactivate, revoke.
    pub action: &'a str,
    pub reason: Option<u8>,
    /// For a key compromise: since when the key is not to be trusted (Unix seconds).
    pub invalidity: Option<i64>,
    /// What the audit records besides (the requester and their document).
    pub detail: &'a str,
}

fn internal(e: crate::error::Error) -> Refusal {
    tracing::error!(error = %e, "lifecycle");
    Refusal::RaInternal {}
}

/// The state `change` leads to from `state`, or why not.
pub fn next(
    change: &Change<'_>,
    state: Lifecycle,
    not_before: i64,
    now: time::OffsetDateTime,
) -> Result<Lifecycle, Refusal> {
    let reason = change.reason.unwrap_or(0);
    let next = match (change.action, state) {
        ("suspend" | "reactivate" | "revoke", Lifecycle::Revoked { .. }) => return Err(Refusal::CertificateRevoked {}),
        ("suspend", Lifecycle::Active) => Lifecycle::Suspended { since: now },
        ("reactivate", Lifecycle::Suspended { .. }) => Lifecycle::Active,
        ("revoke", _) => Lifecycle::Revoked { at: now, reason },
        ("suspend" | "reactivate", _) => {
            return Err(Refusal::LifecycleNotAllowed { action: change.action.to_owned() });
        }
        _ => return Err(Refusal::UnknownAction {}),
    };
    if change.action == "revoke" && !REASONS.contains(&reason) {
        return Err(Refusal::RevocationReasonRefused { reason: reason.to_string() });
    }
    if let Some(at) = change.invalidity {
        let fits =
            change.action == "revoke" && reason == KEY_COMPROMISE && at <= now.unix_timestamp() && at >= not_before;
        if !fits {
            return Err(Refusal::InvalidityDateRefused {});
        }
    }
    Ok(next)
}

/// Make `change` to the certificate `serial` for `actor`: one of another office does not
/// exist for them. The state it is in now.
pub async fn change(ra: &Ra, actor: &Actor, serial: &[u8], change: &Change<'_>) -> Result<Lifecycle, Refusal> {
    let view = ra.store.certificate_view(serial).await.map_err(internal)?;
    let Some(view) = view.filter(|v| actor.sees(v.office.as_deref())) else {
        return Err(Refusal::UnknownCertificate {});
    };
    let now = time::OffsetDateTime::now_utc();
    // Held by the CA for the paperwork: not the office's to reinstate. Suspended at the
    // holder's request meanwhile, it is no longer held (the paperwork's step leaves it
    // suspended).
    if let (Some(why), Lifecycle::Suspended { since }) = (view.held_for.as_deref(), view.state) {
        match change.action {
            "reactivate" => return Err(Refusal::CertificateHeld { why: why.to_owned() }),
            "suspend" => {
                let t = crate::store::Transition {
                    to: Lifecycle::Suspended { since },
                    from: &["suspended"],
                    invalidity: None,
                    held_for: None,
                    unheld_only: false,
                };
                let by = actor.event("", "", change.detail);
                if !ra.store.change_lifecycle(serial, &t, &by).await.map_err(internal)? {
                    return Err(Refusal::LifecycleNotAllowed { action: change.action.to_owned() });
                }
                return Ok(view.state);
            }
            _ => {}
        }
    }
    let next = next(change, view.state, view.not_before, now)?;
    let invalidity = change.invalidity.filter(|_| matches!(next, Lifecycle::Revoked { .. }));
    // Applied only from the state it was decided on: a change made meanwhile wins.
    let from: &[&str] = match change.action {
        "suspend" => &["active"],
        "reactivate" => &["suspended"],
        _ => &["active", "suspended"],
    };
    let t = crate::store::Transition {
        to: next,
        from,
        invalidity,
        held_for: None,
        unheld_only: change.action == "reactivate",
    };
    if !ra.store.change_lifecycle(serial, &t, &actor.event("", "", change.detail)).await.map_err(internal)? {
        let now_state = ra.store.lifecycle(serial).await.map_err(internal)?;
        return Err(match now_state {
            Lifecycle::Revoked { .. } => Refusal::CertificateRevoked {},
            _ => Refusal::LifecycleNotAllowed { action: change.action.to_owned() },
        });
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::{Change, next};
    use crate::registry::Lifecycle;
    use tessera_protocol::refusal::Refusal;

    #[test]
    fn the_rules_of_the_lifecycle() {
        let now = time::OffsetDateTime::now_utc();
        let t = now.unix_timestamp();
        let ch = |action, reason, invalidity| Change { action, reason, invalidity, detail: "" };
        let suspended = Lifecycle::Suspended { since: now };
        let revoked = Lifecycle::Revoked { at: now, reason: 0 };
        assert_eq!(next(&ch("suspend", None, None), Lifecycle::Active, 0, now), Ok(suspended));
        assert_eq!(next(&ch("reactivate", None, None), suspended, 0, now), Ok(Lifecycle::Active));
        assert_eq!(
            next(&ch("revoke", Some(4), None), suspended, 0, now),
            Ok(Lifecycle::Revoked { at: now, reason: 4 })
        );
        assert_eq!(next(&ch("reactivate", None, None), revoked, 0, now), Err(Refusal::CertificateRevoked {}));
        assert!(matches!(
            next(&ch("reactivate", None, None), Lifecycle::Active, 0, now),
            Err(Refusal::LifecycleNotAllowed { .. })
        ));
        assert!(matches!(
            next(&ch("suspend", None, None), suspended, 0, now),
            Err(Refusal::LifecycleNotAllowed { .. })
        ));
        // Reasons an office may not give.
        for reason in [2, 6, 8, 10, 99] {
            assert!(matches!(
                next(&ch("revoke", Some(reason), None), Lifecycle::Active, 0, now),
                Err(Refusal::RevocationReasonRefused { .. })
            ));
        }
        // The invalidity date: key compromise only, in the certificate's life so far.
        assert!(next(&ch("revoke", Some(1), Some(t - 3600)), Lifecycle::Active, t - 86_400, now).is_ok());
        for (reason, at) in [(1, t + 3600), (1, t - 2 * 86_400), (4, t - 3600)] {
            assert_eq!(
                next(&ch("revoke", Some(reason), Some(at)), Lifecycle::Active, t - 86_400, now),
                Err(Refusal::InvalidityDateRefused {})
            );
        }
        assert_eq!(
            next(&ch("suspend", None, Some(t)), Lifecycle::Active, 0, now),
            Err(Refusal::InvalidityDateRefused {})
        );
    }
}
