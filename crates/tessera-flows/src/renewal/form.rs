//! The renewal form (DOMAIN.md, Renewal): the RA's renewal request opened, the contract and
//! the form shown and accepted, then the form signed on the card with the expiring key as a
//! CAdES .p7m. The signature is checked here against the certificate before it is sent: it
//! is the test signature that shows the card's key is the certificate's.

use tessera_core::card::Card;
use tessera_core::devices::Devices;
use tessera_core::keys::KeyPairInfo;
use tessera_protocol::cades;

use crate::prompter::Question;
use crate::ra::http::Http;
use crate::ra::workflow;
use crate::secrets::Asked;
use crate::{Error, Result};

/// Sign the renewal form of the certificate `certificate` (DER) with its key `old`; the
/// id of the RA's renewal request, now forwarded, and whether it already was (signed by an
/// earlier run: nothing asked, nothing signed).
pub(super) async fn sign(
    devices: &mut Devices,
    token: &str,
    secrets: &mut Asked<'_>,
    http: &Http,
    old: &KeyPairInfo,
    certificate: &[u8],
    summary: &tessera_pki::CertificateSummary,
) -> Result<(String, bool)> {
    let request = workflow::renewal_start(http, &summary.serial).await?;
    if request.state == "forwarded" {
        // Signed by an earlier run (whose journal write may have been lost).
        return Ok((request.id, true));
    }
    let question = Question::SignRenewalForm {
        form: request.form.clone(),
        contract_version: request.contract.version.clone(),
        contract: request.contract.text.clone(),
        policy: request.policy.clone(),
    };
    if !secrets.prompter.confirm(&question)? {
        return Err(Error::Cancelled);
    }
    let unusable = |e: tessera_protocol::Error| Error::RenewalKeyMismatch {
        certificate: summary.common_name.clone(),
        reason: e.to_string(),
    };
    let signing = cades::Signing::new(
        request.form.as_bytes(),
        certificate,
        &old.algorithm.signature_algorithm(),
        time::OffsetDateTime::now_utc(),
    )
    .map_err(unusable)?;
    let to_be_signed = signing.to_be_signed().map_err(unusable)?;
    let signature = secrets.retry(|secrets| {
        devices.with_token(token, |t| {
            Card::new(t).sign_with(secrets, old, |signer| {
                signer.sign(&to_be_signed).map_err(|reason| tessera_core::Error::CsrFailed { reason })
            })
        })
    })?;
    let p7m = signing.finish(&signature).map_err(unusable)?;
    cades::verify(&p7m, certificate).map_err(unusable)?;
    let forwarded = workflow::renewal_sign(http, &summary.serial, &request, &p7m).await?;
    Ok((forwarded.id, false))
}
