//! PKIStatusInfo (RFC 4210 5.2.3): the status and failure bits the RA sends, built for
//! answers and read back from them.

use crate::asn1::{self, integer, sequence, tlv};

/// PKIStatus values (RFC 4210 5.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Accepted = 0,
    Rejection = 2,
}

/// PKIFailureInfo bits (RFC 4210 5.2.3) that the RA sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailInfo {
    BadAlg = 0,
    BadMessageCheck = 1,
    BadRequest = 2,
    BadTime = 3,
    BadCertId = 4,
    BadDataFormat = 5,
    WrongAuthority = 6,
    IncorrectData = 7,
    BadPop = 9,
    CertRevoked = 10,
    CertConfirmed = 11,
    WrongIntegrity = 12,
    BadRecipientNonce = 13,
    BadSenderNonce = 18,
    BadCertTemplate = 19,
    SignerNotTrusted = 20,
    TransactionIdInUse = 21,
    UnsupportedVersion = 22,
    NotAuthorized = 23,
    SystemUnavail = 24,
    SystemFailure = 25,
    DuplicateCertReq = 26,
}

pub(super) fn status_info(status: Status, fail: Option<FailInfo>, text: Option<&str>) -> Vec<u8> {
    let mut parts = vec![integer(status as i64)];
    if let Some(t) = text {
        parts.push(sequence(&[tlv(0x0C, t.as_bytes())]));
    }
    if let Some(f) = fail {
        // BIT STRING with the single bit `f` set (DER: minimal length, unused bits).
        let bit = f as usize;
        let mut bytes = vec![0u8; bit / 8 + 1];
        bytes[bit / 8] = 0x80 >> (bit % 8);
        let unused = 7 - (bit % 8) as u8;
        parts.push(tlv(0x03, &[&[unused][..], &bytes].concat()));
    }
    sequence(&parts)
}

/// The failInfo bits of a PKIStatusInfo's content, bit n (RFC 4210 numbering) as 1 << n.
pub(super) fn fail_bits(info: &[u8]) -> Option<u32> {
    let bits = asn1::children(info).ok()?.into_iter().find(|t| t.tag == 0x03)?;
    let bytes = bits.content.get(1..)?;
    let mut out = 0u32;
    for (i, byte) in bytes.iter().take(4).enumerate() {
        for b in 0..8 {
            if byte & (0x80 >> b) != 0 {
                out |= 1 << (i * 8 + b);
            }
        }
    }
    Some(out)
}

/// The first statusString of a PKIStatusInfo's content.
pub(super) fn status_text(info: &[u8]) -> Option<String> {
    asn1::children(info)
        .ok()?
        .into_iter()
        .find(|t| t.tag == 0x30)
        .and_then(|strings| asn1::children(strings.content).ok())
        .and_then(|v| v.first().map(|t| String::from_utf8_lossy(t.content).into_owned()))
}
