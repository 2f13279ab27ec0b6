//! CAdES-BES signatures (ETSI EN 319 122-1), the `.p7m` of a signed renewal form: CMS
//! SignedData (RFC 5652) with the document inside, signed attributes content-type,
//! message-digest, signing-time and signing-certificate-v2 (RFC 5035: the signer's
//! certificate by its hash, issuer and serial), and the signer's certificate. Built and
//! read with the `cms` and `der` crates; the signature itself is made on the card, so a
//! signature is built in two steps ([`Signing::to_be_signed`], then [`Signing::finish`]).

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier as Oid, OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use sha2::Digest;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::Error;

const ID_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
const CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
const SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
const SIGNING_CERTIFICATE_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");
const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
const ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");

/// ESSCertIDv2 (RFC 5035): the signer's certificate by hash (SHA-256, the default, so
/// the algorithm is left out), with its issuer and serial.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: x509_cert::serial_number::SerialNumber,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

fn malformed(what: &str) -> impl Fn(der::Error) -> Error + '_ {
    move |e| Error::Malformed { reason: format!("{what}: {e}") }
}

fn refused(reason: &str) -> Error {
    Error::Malformed { reason: reason.to_owned() }
}

/// Any value as an ANY, by its DER.
fn any_of(value: &impl Encode) -> Result<Any, Error> {
    Any::from_der(&value.to_der().map_err(malformed("value"))?).map_err(malformed("value"))
}

fn attribute(oid: Oid, value: &impl Encode) -> Result<Attribute, Error> {
    let value = any_of(value)?;
    Ok(Attribute { oid, values: SetOfVec::try_from(vec![value]).map_err(malformed("attribute"))? })
}

/// A digest function.
type Hash = fn(&[u8]) -> Vec<u8>;

/// The digest a signature algorithm hashes with: SHA-384 for ECDSA with SHA-384, else SHA-256.
fn digest_for(signature_algorithm: &AlgorithmIdentifierOwned) -> (Oid, Hash) {
    if signature_algorithm.oid == ECDSA_SHA384 {
        (SHA384, |d| sha2::Sha384::digest(d).to_vec())
    } else {
        (SHA256, |d| sha2::Sha256::digest(d).to_vec())
    }
}

/// A signature being made over `content` by the holder of `certificate`.
pub struct Signing {
    content: Vec<u8>,
    certificate: Certificate,
    algorithm: AlgorithmIdentifierOwned,
    attributes: SignedAttributes,
}

impl Signing {
    /// `signature_algorithm`: the DER AlgorithmIdentifier the card signs with.
    pub fn new(
        content: &[u8],
        certificate: &[u8],
        signature_algorithm: &[u8],
        at: time::OffsetDateTime,
    ) -> Result<Signing, Error> {
        let certificate = Certificate::from_der(certificate).map_err(malformed("signer certificate"))?;
        let algorithm =
            AlgorithmIdentifierOwned::from_der(signature_algorithm).map_err(malformed("signature algorithm"))?;
        let (_, digest) = digest_for(&algorithm);
        let der = certificate.to_der().map_err(malformed("signer certificate"))?;
        let tbs = &certificate.tbs_certificate;
        let signing_certificate = SigningCertificateV2 {
            certs: vec![EssCertIdV2 {
                hash_algorithm: None,
                cert_hash: OctetString::new(sha2::Sha256::digest(&der).to_vec()).map_err(malformed("hash"))?,
                issuer_serial: Some(IssuerSerial {
                    issuer: vec![GeneralName::DirectoryName(tbs.issuer.clone())],
                    serial_number: tbs.serial_number.clone(),
                }),
            }],
        };
        let time =
            der::asn1::UtcTime::from_unix_duration(std::time::Duration::from_secs(at.unix_timestamp().max(0) as u64))
                .map(x509_cert::time::Time::UtcTime)
                .map_err(malformed("signing time"))?;
        let attributes = SetOfVec::try_from(vec![
            attribute(CONTENT_TYPE, &ID_DATA)?,
            attribute(MESSAGE_DIGEST, &OctetString::new(digest(content)).map_err(malformed("digest"))?)?,
            attribute(SIGNING_TIME, &time)?,
            attribute(SIGNING_CERTIFICATE_V2, &signing_certificate)?,
        ])
        .map_err(malformed("signed attributes"))?;
        Ok(Signing { content: content.to_vec(), certificate, algorithm, attributes })
    }

    /// What the card signs: the signed attributes as a DER SET OF (RFC 5652 5.4).
    pub fn to_be_signed(&self) -> Result<Vec<u8>, Error> {
        self.attributes.to_der().map_err(malformed("signed attributes"))
    }

    /// The `.p7m`: ContentInfo with the SignedData, its signature `signature`.
    pub fn finish(self, signature: &[u8]) -> Result<Vec<u8>, Error> {
        let (digest_oid, _) = digest_for(&self.algorithm);
        let digest_alg = AlgorithmIdentifierOwned { oid: digest_oid, parameters: None };
        let tbs = &self.certificate.tbs_certificate;
        let signer = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: tbs.issuer.clone(),
                serial_number: tbs.serial_number.clone(),
            }),
            digest_alg: digest_alg.clone(),
            signed_attrs: Some(self.attributes),
            signature_algorithm: self.algorithm,
            signature: OctetString::new(signature.to_vec()).map_err(malformed("signature"))?,
            unsigned_attrs: None,
        };
        let content = OctetString::new(self.content).map_err(malformed("content"))?;
        let signed = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(vec![digest_alg]).map_err(malformed("digest algorithms"))?,
            encap_content_info: EncapsulatedContentInfo { econtent_type: ID_DATA, econtent: Some(any_of(&content)?) },
            certificates: Some(CertificateSet(
                SetOfVec::try_from(vec![cms::cert::CertificateChoices::Certificate(self.certificate)])
                    .map_err(malformed("certificates"))?,
            )),
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(vec![signer]).map_err(malformed("signer infos"))?),
        };
        let info = ContentInfo { content_type: ID_SIGNED_DATA, content: any_of(&signed)? };
        info.to_der().map_err(malformed("content info"))
    }
}

/// What a verified `.p7m` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The signed document.
    pub content: Vec<u8>,
    pub signed_at: Option<time::OffsetDateTime>,
}

fn attribute_value(attributes: &SignedAttributes, oid: Oid) -> Result<&Any, Error> {
    let mut found = attributes.iter().filter(|a| a.oid == oid);
    match (found.next(), found.next()) {
        (Some(a), None) if a.values.len() == 1 => a.values.get(0).ok_or_else(|| refused("empty attribute")),
        (None, _) => Err(refused(&format!("signed attribute {oid} missing"))),
        _ => Err(refused(&format!("signed attribute {oid} repeated or with several values"))),
    }
}

/// At most this many certificates in a `.p7m` (the signer's and its chain): the `der`
/// crate sorts a SET OF as it reads it, in time that grows with the square of its size.
pub const MOST_CERTIFICATES: usize = 16;

/// Refuse, before the `cms` crate reads it, a `.p7m` whose sets are larger than a
/// signature needs: more than [`MOST_CERTIFICATES`] certificates, any CRL, several
/// signers, more than four digest algorithms. Only the outer TLVs are read, each once.
fn bounded(p7m: &[u8]) -> Result<(), Error> {
    let not_cms = || refused("not a CMS SignedData");
    let info = crate::asn1::read_one(p7m).map_err(|_| not_cms())?;
    let fields = crate::asn1::children(info.content).map_err(|_| not_cms())?;
    let content = match (info.tag, fields.as_slice()) {
        (0x30, [_, content]) if content.tag == 0xA0 => content,
        _ => return Err(not_cms()),
    };
    let signed = crate::asn1::read_one(content.content).map_err(|_| not_cms())?;
    let parts = crate::asn1::children(signed.content).map_err(|_| not_cms())?;
    let count = |t: &crate::asn1::Tlv<'_>| crate::asn1::children(t.content).map(|c| c.len()).map_err(|_| not_cms());
    for part in &parts {
        match part.tag {
            0xA0 => {
                let n = count(part)?;
                if n > MOST_CERTIFICATES {
                    return Err(refused(&format!("{n} certificates, at most {MOST_CERTIFICATES}")));
                }
            }
            0xA1 => return Err(refused("CRLs inside: not expected")),
            _ => {}
        }
    }
    match (parts.get(1), parts.last()) {
        (Some(digests), Some(signers)) if digests.tag == 0x31 && signers.tag == 0x31 => {
            if count(digests)? > 4 || count(signers)? != 1 {
                return Err(refused("exactly one signer expected"));
            }
            Ok(())
        }
        _ => Err(not_cms()),
    }
}

/// A `.p7m` as it travels: DER, or the same in Base64 or PEM (as many signing tools and
/// mail clients save it). None when it is none of these.
pub fn from_transport(bytes: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    if bytes.first() == Some(&0x30) {
        return Some(bytes.to_vec());
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body).ok()?;
    (der.first() == Some(&0x30)).then_some(der)
}

/// The certificates a `.p7m` carries: the signer's (the one its single signer names by
/// issuer and serial), then the others (its chain, as the signer's software added it).
/// Nothing is verified here: [`verify`] does, with the signer's certificate.
pub fn certificates(p7m: &[u8]) -> Result<(Vec<u8>, Vec<Vec<u8>>), Error> {
    bounded(p7m)?;
    let info = ContentInfo::from_der(p7m).map_err(malformed("ContentInfo"))?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(refused("not a CMS SignedData"));
    }
    let signed: SignedData = info.content.decode_as().map_err(malformed("SignedData"))?;
    let [signer] = signed.signer_infos.0.as_slice() else {
        return Err(refused("exactly one signer expected"));
    };
    let SignerIdentifier::IssuerAndSerialNumber(sid) = &signer.sid else {
        return Err(refused("the signer is not named by issuer and serial"));
    };
    let (mut own, mut others) = (None, Vec::new());
    for choice in signed.certificates.iter().flat_map(|set| set.0.iter()) {
        let cms::cert::CertificateChoices::Certificate(c) = choice else { continue };
        let der = c.to_der().map_err(malformed("certificate"))?;
        if own.is_none()
            && c.tbs_certificate.issuer == sid.issuer
            && c.tbs_certificate.serial_number == sid.serial_number
        {
            own = Some(der);
        } else {
            others.push(der);
        }
    }
    Ok((own.ok_or_else(|| refused("the signer's certificate is not inside"))?, others))
}

/// Check a `.p7m` signed by the holder of `certificate` (DER): one signer, that
/// certificate by issuer and serial and by its signing-certificate-v2 hash, the content
/// type and digest of the encapsulated document, and the signature with the certificate's
/// key. Strict DER (the `der` crate's reader).
pub fn verify(p7m: &[u8], certificate: &[u8]) -> Result<Verified, Error> {
    bounded(p7m)?;
    let info = ContentInfo::from_der(p7m).map_err(malformed("ContentInfo"))?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(refused("not a CMS SignedData"));
    }
    let signed: SignedData = info.content.decode_as().map_err(malformed("SignedData"))?;
    let encap = &signed.encap_content_info;
    let content = match (&encap.econtent_type, &encap.econtent) {
        (t, Some(c)) if *t == ID_DATA => {
            c.decode_as::<OctetString>().map_err(malformed("content"))?.as_bytes().to_vec()
        }
        (t, Some(_)) => return Err(refused(&format!("content type {t}, not data"))),
        (_, None) => return Err(refused("detached content: the document must be inside")),
    };
    let [signer] = signed.signer_infos.0.as_slice() else {
        return Err(refused("exactly one signer expected"));
    };
    let cert = Certificate::from_der(certificate).map_err(malformed("signer certificate"))?;
    let tbs = &cert.tbs_certificate;
    match &signer.sid {
        SignerIdentifier::IssuerAndSerialNumber(i)
            if i.issuer == tbs.issuer && i.serial_number == tbs.serial_number => {}
        _ => return Err(refused("signed by another certificate")),
    }
    let attributes = signer.signed_attrs.as_ref().ok_or_else(|| refused("no signed attributes (not CAdES)"))?;
    // The signature algorithm: the card's, or rsaEncryption with the digest algorithm (as
    // OpenSSL writes it).
    let algorithm = if signer.signature_algorithm.oid == RSA_ENCRYPTION && signer.digest_alg.oid == SHA256 {
        AlgorithmIdentifierOwned { oid: SHA256_WITH_RSA, parameters: Some(Any::null()) }
    } else {
        signer.signature_algorithm.clone()
    };
    let (digest_oid, digest) = digest_for(&algorithm);
    if signer.digest_alg.oid != digest_oid {
        return Err(refused("digest algorithm does not match the signature algorithm"));
    }
    let content_type: Oid =
        attribute_value(attributes, CONTENT_TYPE)?.decode_as().map_err(malformed("content-type"))?;
    if content_type != ID_DATA {
        return Err(refused("content-type attribute is not data"));
    }
    let message_digest: OctetString =
        attribute_value(attributes, MESSAGE_DIGEST)?.decode_as().map_err(malformed("message-digest"))?;
    if message_digest.as_bytes() != digest(&content).as_slice() {
        return Err(refused("message-digest does not match the document"));
    }
    let signing_certificate: SigningCertificateV2 = attribute_value(attributes, SIGNING_CERTIFICATE_V2)?
        .decode_as()
        .map_err(malformed("signing-certificate-v2"))?;
    let first = signing_certificate.certs.first().ok_or_else(|| refused("signing-certificate-v2 is empty"))?;
    if first.hash_algorithm.as_ref().is_some_and(|a| a.oid != SHA256)
        || first.cert_hash.as_bytes() != sha2::Sha256::digest(certificate).as_slice()
    {
        return Err(refused("signing-certificate-v2 names another certificate"));
    }
    let signed_at = attribute_value(attributes, SIGNING_TIME)
        .ok()
        .and_then(|t| t.to_der().ok())
        .and_then(|t| x509_cert::time::Time::from_der(&t).ok())
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t.to_unix_duration().as_secs() as i64).ok());
    let spki = tbs.subject_public_key_info.to_der().map_err(malformed("public key"))?;
    let algorithm = algorithm.to_der().map_err(malformed("signature algorithm"))?;
    let to_be_signed = attributes.to_der().map_err(malformed("signed attributes"))?;
    crate::signature::verify_algorithm(&spki, &algorithm, &to_be_signed, signer.signature.as_bytes())?;
    Ok(Verified { content, signed_at })
}
