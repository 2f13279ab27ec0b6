//! The OCSP responder (RFC 6960) for the issuing CA's certificates, signed by the issuing
//! CA itself: good, revoked (with its reason), on hold (revoked with certificateHold, as
//! RFC 6960 2.2 says), unknown for a certificate this CA did not issue. The request's
//! nonce is echoed. Requests and responses are read and written with the x509-ocsp types.

use der::asn1::{GeneralizedTime, Null};
use der::{Decode, Encode};
use x509_cert::ext::pkix::CrlReason;
use x509_ocsp::{
    AsResponseBytes, BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse,
    OcspResponseStatus, ResponderId, ResponseData, RevokedInfo, SingleResponse,
};

use crate::registry::Lifecycle;
use crate::state::Ra;

const SHA1: &str = "1.3.14.3.2.26";
const SHA256: &str = "2.16.840.1.101.3.4.2.1";
const NONCE: &str = "1.3.6.1.5.5.7.48.1.2";
const INVALIDITY_DATE: &str = "2.5.29.24";
/// More certificates in one request than a client needs: refused as malformed.
const MAX_REQUESTS: usize = 16;

/// The invalidityDate extension (RFC 5280 5.3.2) for a time in Unix seconds.
fn invalidity_extension(at: i64) -> Option<x509_cert::ext::Extension> {
    let value = time(time::OffsetDateTime::from_unix_timestamp(at).ok()?).0.to_der().ok()?;
    Some(x509_cert::ext::Extension {
        extn_id: der::asn1::ObjectIdentifier::new_unwrap(INVALIDITY_DATE),
        critical: false,
        extn_value: der::asn1::OctetString::new(value).ok()?,
    })
}

fn status_only(status: OcspResponseStatus) -> Vec<u8> {
    OcspResponse { response_status: status, response_bytes: None }.to_der().unwrap_or_default()
}

fn time(t: time::OffsetDateTime) -> OcspGeneralizedTime {
    let secs = t.unix_timestamp().max(0) as u64;
    OcspGeneralizedTime(
        GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(secs))
            .unwrap_or(GeneralizedTime::from_unix_duration(std::time::Duration::ZERO).expect("the epoch")),
    )
}

fn reason(code: u8) -> CrlReason {
    match code {
        1 => CrlReason::KeyCompromise,
        2 => CrlReason::CaCompromise,
        3 => CrlReason::AffiliationChanged,
        4 => CrlReason::Superseded,
        5 => CrlReason::CessationOfOperation,
        9 => CrlReason::PrivilegeWithdrawn,
        _ => CrlReason::Unspecified,
    }
}

/// The hash of `data` with the CertID's hash algorithm, if this responder knows it.
fn digest(algorithm: &str, data: &[u8]) -> Option<Vec<u8>> {
    use sha2::Digest;
    match algorithm {
        SHA1 => Some(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, data).as_ref().to_vec()),
        SHA256 => Some(sha2::Sha256::digest(data).to_vec()),
        _ => None,
    }
}

impl Ra {
    /// Answer one DER OCSPRequest with a DER OCSPResponse.
    pub async fn ocsp(&self, request: &[u8]) -> Vec<u8> {
        let Ok(request) = OcspRequest::from_der(request) else {
            return status_only(OcspResponseStatus::MalformedRequest);
        };
        let list = &request.tbs_request.request_list;
        if list.is_empty() || list.len() > MAX_REQUESTS {
            return status_only(OcspResponseStatus::MalformedRequest);
        }
        let Ok(issuer) = x509_cert::Certificate::from_der(&self.ca.certificate) else {
            return status_only(OcspResponseStatus::InternalError);
        };
        let Ok(issuer_name) = issuer.tbs_certificate.subject.to_der() else {
            return status_only(OcspResponseStatus::InternalError);
        };
        let issuer_key = issuer.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes().to_vec();
        let now = time::OffsetDateTime::now_utc();
        let mut responses = Vec::new();
        for one in list {
            let status = match self.status(&one.req_cert, &issuer_name, &issuer_key, now).await {
                Ok(s) => s,
                Err(()) => return status_only(OcspResponseStatus::InternalError),
            };
            // A key compromise's invalidity date, as the CRL entry carries it (RFC 6960 4.4).
            let invalid_since = match &status {
                CertStatus::Revoked(info) if info.revocation_reason == Some(CrlReason::KeyCompromise) => {
                    self.store.invalidity_date(one.req_cert.serial_number.as_bytes()).await.ok().flatten()
                }
                _ => None,
            };
            responses.push(SingleResponse {
                cert_id: one.req_cert.clone(),
                cert_status: status,
                this_update: time(now),
                next_update: Some(time(now + time::Duration::hours(1))),
                single_extensions: invalid_since.and_then(invalidity_extension).map(|e| vec![e]),
            });
        }
        // The client's nonce, back (RFC 8954).
        let nonce = request
            .tbs_request
            .request_extensions
            .as_ref()
            .and_then(|exts| exts.iter().find(|e| e.extn_id.to_string() == NONCE).cloned());
        let data = ResponseData {
            version: Default::default(),
            responder_id: ResponderId::ByName(issuer.tbs_certificate.subject.clone()),
            produced_at: time(now),
            responses,
            response_extensions: nonce.map(|n| vec![n]),
        };
        match self.sign_response(data) {
            Some(der) => der,
            None => status_only(OcspResponseStatus::InternalError),
        }
    }

    /// The status of one certificate this responder is asked about.
    async fn status(
        &self,
        id: &CertId,
        issuer_name: &[u8],
        issuer_key: &[u8],
        now: time::OffsetDateTime,
    ) -> Result<CertStatus, ()> {
        let algorithm = id.hash_algorithm.oid.to_string();
        let ours = digest(&algorithm, issuer_name).is_some_and(|h| h == id.issuer_name_hash.as_bytes())
            && digest(&algorithm, issuer_key).is_some_and(|h| h == id.issuer_key_hash.as_bytes());
        if !ours {
            return Ok(CertStatus::Unknown(Null));
        }
        let stored = self.store.confirmed(id.serial_number.as_bytes()).await.map_err(|e| {
            tracing::error!(error = %e, "OCSP: database");
        })?;
        Ok(match stored.map(|(_, lifecycle)| lifecycle.now(now)) {
            None => CertStatus::Unknown(Null),
            Some(Lifecycle::Active) => CertStatus::Good(Null),
            Some(Lifecycle::Suspended { since }) => CertStatus::Revoked(RevokedInfo {
                revocation_time: time(since),
                revocation_reason: Some(CrlReason::CertificateHold),
            }),
            Some(Lifecycle::Revoked { at, reason: code }) => {
                CertStatus::Revoked(RevokedInfo { revocation_time: time(at), revocation_reason: Some(reason(code)) })
            }
        })
    }

    fn sign_response(&self, data: ResponseData) -> Option<Vec<u8>> {
        let tbs = data.to_der().ok()?;
        let signature = self.ca.sign(&tbs).map_err(|e| tracing::error!(error = %e, "OCSP: signing")).ok()?;
        let algorithm = x509_cert::spki::AlgorithmIdentifierOwned::from_der(&self.ca.signature_algorithm()).ok()?;
        let basic = BasicOcspResponse {
            tbs_response_data: data,
            signature_algorithm: algorithm,
            signature: der::asn1::BitString::from_bytes(&signature).ok()?,
            certs: None,
        };
        let bytes = basic.to_response_bytes().ok()?;
        OcspResponse { response_status: OcspResponseStatus::Successful, response_bytes: Some(bytes) }.to_der().ok()
    }
}

/// The DER of an OCSP request sent by GET (RFC 6960 appendix A.1): base64 in the path,
/// URL-encoded.
pub fn from_get_path(path: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let decoded: String = percent_decode(path)?;
    base64::engine::general_purpose::STANDARD.decode(decoded.as_bytes()).ok()
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn get_paths_are_url_decoded_base64() {
        assert_eq!(super::from_get_path("MAM%3D").as_deref(), Some(&[0x30, 0x03][..]));
        assert_eq!(super::from_get_path("%zz"), None);
    }
}
