//! The holder's side of renewal (DOMAIN.md, Renewal), keyed by the expiring certificate:
//! - `GET /api/v1/renewal/{serial}`: whether it can be renewed here, asked by the
//!   diagnostics before any PIN. It says what OCSP already tells anyone (active,
//!   suspended, revoked), whether a confirmed renewal replaced it, and the policy.
//! - `POST /api/v1/renewal/{serial}`: open (or find) its renewal request, communicated:
//!   the contract and the renewal form to sign, with the contact data masked.
//! - `POST /api/v1/renewal/{serial}/form`: the form signed on the card with the expiring
//!   key (CAdES .p7m), checked against that certificate: the request is forwarded, the
//!   .p7m kept and e-mailed to the holder, and kur may go ahead.
//!
//! Operators list and cancel renewal requests (`/api/v1/operator/renewals`).

pub mod contacts;
pub mod overwrite;

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use tessera_protocol::refusal::Refusal;
use tessera_protocol::workflow::renewal::{
    Cancelled, Contacts as ContactsView, Contract, RenewalFilter, RenewalList, RenewalRequest, RenewalState, STATES,
    SignedForm,
};

use super::{ApiError, ApiResult, JsonBody, Limited, SerialPath, SignedIn, internal};
use crate::registry::{Lifecycle, RenewalPolicy};
use crate::state::Ra;
use crate::store::{NewRenewal, Renewal};

/// The renewal `id` of the certificate `serial`, else 404 `unknown-renewal`.
async fn renewal_of(ra: &Ra, serial: &[u8], id: &str) -> ApiResult<Renewal> {
    ra.store
        .renewal(id)
        .await?
        .filter(|r| r.serial.eq_ignore_ascii_case(&crate::store::hex(serial)))
        .ok_or(ApiError::from(Refusal::UnknownRenewal {}))
}

/// The renewal `id` of the certificate `serial` (else 404 `unknown-renewal`), in `state`
/// (else the `refusal` naming the state it is in).
pub(super) async fn renewal_in(
    ra: &Ra,
    serial: &[u8],
    id: &str,
    state: &str,
    refusal: fn(String) -> Refusal,
) -> ApiResult<Renewal> {
    let renewal = renewal_of(ra, serial, id).await?;
    if renewal.state != state {
        return Err(refusal(renewal.state).into());
    }
    Ok(renewal)
}

/// What the holder signed with the key of the certificate `serial`: a CAdES .p7m (base64)
/// checked against that certificate, its content. Refused with the `refusal` saying why; a
/// signature that does not verify counts as a failure of its sender.
pub(super) async fn signed_by_holder(
    ra: &Ra,
    client: std::net::IpAddr,
    serial: &[u8],
    p7m: &str,
    refusal: fn(String) -> Refusal,
) -> ApiResult<Vec<u8>> {
    use base64::Engine;
    let refused = |reason: &str| ApiError(refusal(reason.to_owned()));
    let p7m = base64::engine::general_purpose::STANDARD.decode(p7m.trim()).map_err(|_| refused("not base64"))?;
    let der = ra.store.certificate_der(serial).await?.ok_or(ApiError::from(Refusal::UnknownCertificate {}))?;
    let signed = tessera_protocol::cades::verify(&p7m, &der).map_err(|e| {
        ra.failed_from(client);
        refused(&e.to_string())
    })?;
    Ok(signed.content)
}

/// The state of a certificate for renewal: active, superseded, suspended or revoked.
async fn certificate_state(ra: &Ra, serial: &[u8]) -> ApiResult<&'static str> {
    let lifecycle = ra.store.lifecycle(serial).await?.now(time::OffsetDateTime::now_utc());
    let superseded = ra.store.superseded(serial).await?;
    Ok(match lifecycle {
        Lifecycle::Revoked { .. } => "revoked",
        Lifecycle::Suspended { .. } => "suspended",
        Lifecycle::Active if superseded => "superseded",
        Lifecycle::Active => "active",
    })
}

/// The holder's contact data: the holder record, else the request's (whose e-mail is the
/// certificate's and cannot change here).
pub(super) struct Contacts {
    pub record: crate::store::NewHolder,
    /// A holder record exists (registered at the counter): its e-mail can change.
    pub registered: bool,
    /// When another person (another tax code or passport) has the mobile or the e-mail,
    /// which: the form cannot be signed until it is changed (DOMAIN.md, Renewal).
    pub conflict: Option<&'static str>,
}

impl Contacts {
    /// As the holder sees them (masked), with what can change.
    fn view(&self) -> ContactsView {
        ContactsView {
            mobile: self.record.mobile.as_deref().map(crate::masked::mobile),
            email: self.record.email.as_deref().map(crate::masked::email),
            email_editable: self.registered,
            conflict: self.conflict.map(str::to_owned),
        }
    }
}

pub(super) async fn contacts(ra: &Ra, entry: &crate::registry::Entry) -> ApiResult<Contacts> {
    let holder = &entry.request.holder;
    let registered = ra.store.holder_of(&entry.request.reference).await?;
    let is_registered = registered.is_some();
    let record = registered.unwrap_or_else(|| {
        let passport = holder.passport_country.is_some();
        tessera_protocol::workflow::operator::NewHolder {
            given_name: holder.given_name.clone(),
            surname: holder.surname.clone(),
            cf: (!passport).then(|| holder.cf.clone()),
            passport: passport.then(|| holder.cf.clone()),
            passport_country: holder.passport_country.clone(),
            mobile: entry.request.mobile.clone(),
            email: holder.email.clone(),
            cf_forced: false,
            ..Default::default()
        }
    });
    let conflict = ra.store.contact_of_another(&record).await?;
    Ok(Contacts { record, registered: is_registered, conflict })
}

/// A renewal request as the holder's client sees it; `contacts` while it waits for the form.
pub(super) fn answer_with(renewal: &Renewal, ra: &Ra, contacts: Option<&Contacts>) -> Json<RenewalRequest> {
    // The terms the form names (a forwarded request may have accepted an earlier version,
    // whose text is no longer served).
    let current = renewal.contract_version == ra.renewal.contract.version;
    Json(RenewalRequest {
        id: renewal.id.clone(),
        state: renewal.state.clone(),
        form: renewal.form.clone(),
        contract: Contract {
            version: renewal.contract_version.clone(),
            text: if current { ra.renewal.contract.text.clone() } else { String::new() },
        },
        policy: policy_name(ra.renewal_policy).to_owned(),
        contacts: contacts.map(Contacts::view),
    })
}

pub(super) fn answer(renewal: &Renewal, ra: &Ra) -> Json<RenewalRequest> {
    answer_with(renewal, ra, None)
}

fn policy_name(policy: RenewalPolicy) -> &'static str {
    match policy {
        RenewalPolicy::Automatic => "automatic",
        RenewalPolicy::Approval => "approval",
    }
}

/// POST /api/v1/renewal/{serial}: the certificate's renewal request, opened if needed.
pub async fn start(
    State(ra): State<Arc<Ra>>,
    Limited(client): Limited,
    SerialPath(serial): SerialPath,
) -> ApiResult<Json<RenewalRequest>> {
    let Some(der) = ra.store.certificate_der(&serial).await? else {
        ra.failed_from(client);
        return Err(ApiError::from(Refusal::UnknownCertificate {}));
    };
    match certificate_state(&ra, &serial).await? {
        "active" => {}
        state => return Err(ApiError::from(Refusal::NotRenewable { state: state.to_string() })),
    }
    let now = time::OffsetDateTime::now_utc();
    let summary =
        tessera_pki::CertificateSummary::parse(&der, now).map_err(|_| ApiError::from(Refusal::RaInternal {}))?;
    let (entry, profile) =
        ra.store.by_certificate(&der, &serial).await?.ok_or(ApiError::from(Refusal::UnknownCertificate {}))?;
    // A contact registered to another person does not stop the request: it stops the
    // form's signature until the holder changes it (contacts.rs).
    let contacts = contacts(&ra, &entry).await?;
    if let Some(open) = ra.store.open_renewal_of(&serial).await? {
        // A form not yet signed under terms since replaced is made again under the new ones.
        let stale = open.state == "communicated" && open.contract_version != ra.renewal.contract.version;
        let by = crate::store::audit::Event { actor: "contract-changed", ..Default::default() };
        if !stale || !ra.store.cancel_renewal(&open.id, &by).await? {
            let open = ra.store.renewal(&open.id).await?.unwrap_or(open);
            let waiting = open.state == "communicated";
            return Ok(answer_with(&open, &ra, waiting.then_some(&contacts)));
        }
    }
    match summary.status {
        tessera_pki::RenewalStatus::Renewable => {}
        tessera_pki::RenewalStatus::Expired => return Err(ApiError::from(Refusal::CertificateExpired {})),
        _ => {
            return Err(ApiError::from(Refusal::RenewalNotOpen { opens_in: (summary.days_left - 60).max(0) }));
        }
    }
    let id = crate::codes::random_chars(10).map(|c| format!("RIN-{c}")).ok_or_else(|| internal("renewal id"))?;
    let expires = time::OffsetDateTime::parse(&summary.not_after, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| ApiError::from(Refusal::RaInternal {}))?;
    let text = form_of(&id, &entry, profile, &summary, &contacts.record, &ra.renewal.contract.version, now.date());
    let renewal = ra
        .store
        .open_renewal(&NewRenewal {
            id: &id,
            serial: &serial,
            reference: &entry.request.reference,
            form: &text,
            contract_version: &ra.renewal.contract.version,
            expires_at: expires,
        })
        .await?;
    Ok(answer_with(&renewal, &ra, Some(&contacts)))
}

/// The renewal form of request `id`, from the registered data and the contacts in `record`.
pub(super) fn form_of(
    id: &str,
    entry: &crate::registry::Entry,
    profile: Option<crate::registry::Profile>,
    summary: &tessera_pki::CertificateSummary,
    record: &tessera_protocol::workflow::operator::NewHolder,
    contract_version: &str,
    date: time::Date,
) -> String {
    let holder = &entry.request.holder;
    crate::renewal_form::text(&crate::renewal_form::FormData {
        id,
        given_name: &holder.given_name,
        surname: &holder.surname,
        identity: &holder.cf,
        profile: profile.unwrap_or(entry.request.profile).name(),
        serial: &summary.serial,
        not_after: &summary.not_after,
        mobile: record.mobile.as_deref(),
        email: record.email.as_deref(),
        contract_version,
        date,
    })
}

/// POST /api/v1/renewal/{serial}/form: the signed form; the request is forwarded.
pub async fn sign(
    State(ra): State<Arc<Ra>>,
    Limited(client): Limited,
    SerialPath(serial): SerialPath,
    JsonBody(body): JsonBody<SignedForm>,
) -> ApiResult<Json<RenewalRequest>> {
    use base64::Engine;
    let renewal = renewal_of(&ra, &serial, &body.id).await?;
    let p7m = base64::engine::general_purpose::STANDARD
        .decode(body.signed_form.trim())
        .map_err(|_| ApiError::from(Refusal::FormSignatureRefused { reason: "not base64".to_string() }))?;
    // A repeated submission of the same signature (an answer lost on the way) is answered again.
    if renewal.state == "forwarded"
        && renewal.signed_form.as_deref().is_some_and(|f| f.eq_ignore_ascii_case(&crate::store::hex(&p7m)))
    {
        return Ok(answer(&renewal, &ra));
    }
    if renewal.state != "communicated" {
        return Err(ApiError::from(Refusal::RenewalNotWaiting { state: renewal.state.to_string() }));
    }
    if body.contract_version != renewal.contract_version {
        return Err(ApiError::from(Refusal::ContractChanged { version: renewal.contract_version.to_string() }));
    }
    let der = ra.store.certificate_der(&serial).await?.ok_or(ApiError::from(Refusal::UnknownCertificate {}))?;
    // A contact registered to another person: changed first (DOMAIN.md, Renewal).
    if let Some((entry, _)) = ra.store.by_certificate(&der, &serial).await?
        && let Some(field) = contacts(&ra, &entry).await?.conflict
    {
        return Err(ApiError::from(Refusal::ContactDataConflict { field: field.to_string() }));
    }
    let verified = match tessera_protocol::cades::verify(&p7m, &der) {
        Ok(v) => v,
        Err(e) => {
            ra.failed_from(client);
            return Err(ApiError::from(Refusal::FormSignatureRefused { reason: e.to_string() }));
        }
    };
    if verified.content != renewal.form.as_bytes() {
        ra.failed_from(client);
        return Err(ApiError::from(Refusal::FormSignatureRefused {
            reason: "the signed document is not this renewal's form".to_string(),
        }));
    }
    if !ra.store.forward_renewal(&renewal.id, &p7m).await? {
        // The same signature sent twice at once: the other one forwarded it.
        let now = ra.store.renewal(&renewal.id).await?;
        return match now {
            Some(r)
                if r.state == "forwarded"
                    && r.signed_form.as_deref().is_some_and(|f| f.eq_ignore_ascii_case(&crate::store::hex(&p7m))) =>
            {
                Ok(answer(&r, &ra))
            }
            other => Err(ApiError::from(Refusal::RenewalNotWaiting {
                state: other.map(|r| r.state).unwrap_or_default().to_string(),
            })),
        };
    }
    // The signed form to the holder's e-mail, the .p7m attached (base64).
    // The registered contact e-mail, else the certificate's.
    let mut to = ra.store.holder_of(&renewal.reference).await?.and_then(|h| h.email);
    if to.is_none() {
        to = ra.store.request(renewal.reference.as_bytes()).await?.and_then(|e| e.request.holder.email);
    }
    if let Some(to) = to {
        let text = format!(
            "{}\nIl modulo firmato (CAdES, modulo-rinnovo-{}.p7m) in base64:\n{}\n",
            renewal.form,
            renewal.id,
            base64::engine::general_purpose::STANDARD.encode(&p7m)
        );
        let message =
            crate::gateway::Message::new(crate::gateway::Channel::Email, &to, "Modulo di rinnovo firmato", &text, "");
        if !ra.gateway.deliver(message).await {
            tracing::warn!(renewal = %renewal.id, "the signed renewal form could not be e-mailed");
        }
    }
    let forwarded = ra.store.renewal(&renewal.id).await?.unwrap_or(renewal);
    Ok(answer(&forwarded, &ra))
}

/// GET /api/v1/operator/renewals[?state=]: renewal requests, newest first.
pub async fn list(
    State(ra): State<Arc<Ra>>,
    SignedIn(actor): SignedIn,
    Query(filter): Query<RenewalFilter>,
) -> ApiResult<Json<RenewalList>> {
    if let Some(s) = &filter.state
        && !STATES.contains(&s.as_str())
    {
        return Err(ApiError::from(Refusal::UnknownState { state: s.to_string() }));
    }
    let renewals = ra.store.renewals(filter.state.as_deref(), actor.office_filter()).await?;
    Ok(Json(RenewalList { renewals: renewals.iter().map(Renewal::row).collect() }))
}

/// POST /api/v1/operator/renewals/{id}/cancel.
pub async fn cancel(
    State(ra): State<Arc<Ra>>,
    SignedIn(actor): SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Json<Cancelled>> {
    actor.may(crate::actor::Duty::Decide)?;
    crate::renewal_decisions::close(&ra, &actor, &id).await?;
    Ok(Json(Cancelled { id, state: "cancelled".into() }))
}

/// GET /api/v1/renewal/{serial}: whether the certificate can be renewed here.
pub async fn state(State(ra): State<Arc<Ra>>, SerialPath(serial): SerialPath) -> ApiResult<Json<RenewalState>> {
    if !ra.store.certificate_exists(&serial).await? {
        return Err(ApiError::from(Refusal::UnknownCertificate {}));
    }
    let state = certificate_state(&ra, &serial).await?;
    let policy = policy_name(ra.renewal_policy);
    // A contact registered to another person blocks renewal: said before any PIN.
    let mut conflict = None;
    if state == "active"
        && let Some(der) = ra.store.certificate_der(&serial).await?
        && let Some((entry, _)) = ra.store.by_certificate(&der, &serial).await?
    {
        conflict = contacts(&ra, &entry).await?.conflict;
    }
    // A conflict is changed during the renewal (contacts.rs): still renewable.
    let renewable = state == "active";
    Ok(Json(RenewalState {
        state: state.to_owned(),
        renewable,
        policy: policy.to_owned(),
        conflict: conflict.map(str::to_owned),
    }))
}
