//! The CAs: a root (the clients' trust anchor) and the issuing CA it certifies, whose key
//! is a file or held in an HSM ([`crate::hsm`]); certificates whose subject and key usages
//! come from the registered holder and the profile, never from the CSR; the CRL.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SubjectPublicKeyInfo,
};

use crate::error::{Error, Result};
use crate::registry::{Holder, Profile};

pub struct Ca {
    issuer: Issuer<'static, CaKey>,
    /// The root CA certificate (DER) the issuing CA chains to: the trust anchor clients
    /// keep. The same as `certificate` for a state directory from before the split.
    pub root: Vec<u8>,
    /// Where the CRL is published, written into every certificate.
    pub crl_url: Option<String>,
    /// Where the issuing CA's certificate (caIssuers) and its OCSP responder are, for the
    /// Authority Information Access of every certificate.
    pub aia: Option<Aia>,
    /// The CA's own certificate policy (OID content octets), in every end-entity
    /// certificate when configured.
    pub policy: Option<Vec<u8>>,
    pub certificate: Vec<u8>,
}

/// Authority Information Access URLs (RFC 5280 4.2.2.1).
#[derive(Debug, Clone)]
pub struct Aia {
    pub ca_issuers: String,
    pub ocsp: String,
}

/// ETSI EN 319 411-2 QCP-n-qscd: qualified certificates for natural persons, key in a QSCD.
const QCP_N_QSCD: &str = "0.4.0.194112.1.2";

/// countryName and serialNumber are PrintableString (RFC 5280 appendix A, X.520), always:
/// a value that is not printable stops the issuance; other attributes UTF8String.
fn name(pairs: &[(DnType, &str)]) -> Result<DistinguishedName> {
    let mut dn = DistinguishedName::new();
    for (t, v) in pairs {
        if *t == DnType::CountryName || *t == DnType::CustomDnType(vec![2, 5, 4, 5]) {
            dn.push(t.clone(), rcgen::DnValue::PrintableString(rcgen::string::PrintableString::try_from(*v)?));
        } else {
            dn.push(t.clone(), *v);
        }
    }
    Ok(dn)
}

/// The content octets of an OBJECT IDENTIFIER in dotted form (X.690 8.19), arcs of any
/// size (a 2.25 UUID arc is 128 bits); None when it is not one.
pub fn oid_content(dotted: &str) -> Option<Vec<u8>> {
    let arcs: Vec<u128> = dotted.split('.').map(|a| a.parse().ok()).collect::<Option<_>>()?;
    let (&first, &second) = (arcs.first()?, arcs.get(1)?);
    if first > 2 || (first < 2 && second >= 40) {
        return None;
    }
    let mut out = Vec::new();
    for arc in std::iter::once(first.checked_mul(40)?.checked_add(second)?).chain(arcs[2..].iter().copied()) {
        let mut groups = vec![(arc & 0x7F) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            groups.push((rest & 0x7F) as u8 | 0x80);
            rest >>= 7;
        }
        out.extend(groups.iter().rev());
    }
    Some(out)
}

fn oid_tlv(content: &[u8]) -> Vec<u8> {
    tessera_protocol::asn1::tlv(0x06, content)
}

fn extension_oid(dotted: &str) -> Vec<u64> {
    dotted.split('.').filter_map(|a| a.parse().ok()).collect()
}

/// certificatePolicies (RFC 5280 4.2.1.4) with these policies (OID contents), no
/// qualifiers.
fn certificate_policies(policies: &[&[u8]]) -> rcgen::CustomExtension {
    use tessera_protocol::asn1::sequence;
    let infos: Vec<Vec<u8>> = policies.iter().map(|p| sequence(&[oid_tlv(p)])).collect();
    rcgen::CustomExtension::from_oid_content(&extension_oid("2.5.29.32"), sequence(&infos))
}

/// Authority Information Access: caIssuers and OCSP, each a URI.
fn authority_information_access(aia: &Aia) -> rcgen::CustomExtension {
    use tessera_protocol::asn1::{sequence, tlv};
    let access = |method: &str, url: &str| {
        sequence(&[oid_tlv(&oid_content(method).expect("literal OID")), tlv(0x86, url.as_bytes())])
    };
    let content = sequence(&[access("1.3.6.1.5.5.7.48.2", &aia.ca_issuers), access("1.3.6.1.5.5.7.48.1", &aia.ocsp)]);
    rcgen::CustomExtension::from_oid_content(&extension_oid("1.3.6.1.5.5.7.1.1"), content)
}

/// subjectKeyIdentifier of an end-entity certificate: the leftmost 160 bits of the SHA-256
/// of the subjectPublicKey BIT STRING's value (RFC 7093 section 2, method 1).
fn subject_key_identifier(spki: &SubjectPublicKeyInfo) -> rcgen::CustomExtension {
    use sha2::Digest;
    let bits = rcgen::PublicKeyData::der_bytes(spki);
    let id = &sha2::Sha256::digest(bits)[..20];
    rcgen::CustomExtension::from_oid_content(&extension_oid("2.5.29.14"), tessera_protocol::asn1::tlv(0x04, id))
}

/// Where the issuing CA's key is: a PKCS#8 PEM file (made on first start in the state
/// directory, or given), or a PKCS#11 token.
pub enum CaKey {
    File(Box<KeyPair>),
    Token(crate::hsm::TokenKey),
}

impl CaKey {
    /// `source`: a `pkcs11:` URI or a PKCS#8 PEM file.
    fn open(source: &str) -> Result<CaKey> {
        if source.starts_with("pkcs11:") {
            return crate::hsm::TokenKey::open(source).map(CaKey::Token);
        }
        read_key(std::path::Path::new(source)).map(|k| CaKey::File(Box::new(k)))
    }
}

impl rcgen::PublicKeyData for CaKey {
    fn der_bytes(&self) -> &[u8] {
        match self {
            CaKey::File(k) => k.der_bytes(),
            CaKey::Token(t) => tessera_pki::Signer::public_key(t),
        }
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        match self {
            CaKey::File(k) => k.algorithm(),
            CaKey::Token(t) => tessera_pki::Signer::algorithm(t).rcgen(),
        }
    }
}

impl rcgen::SigningKey for CaKey {
    fn sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, rcgen::Error> {
        match self {
            CaKey::File(k) => k.sign(msg),
            CaKey::Token(t) => tessera_pki::Signer::sign(t, msg).map_err(|e| {
                tracing::error!(error = %e, "the CA's token did not sign");
                rcgen::Error::RemoteKeyError
            }),
        }
    }
}

fn read_key(path: &std::path::Path) -> Result<KeyPair> {
    let pem = zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(Error::file(path))?);
    KeyPair::from_pem(&pem).map_err(|e| Error::content(path, e))
}

fn read_cert(path: &std::path::Path) -> Result<Vec<u8>> {
    let text = std::fs::read_to_string(path).map_err(Error::file(path))?;
    Ok(::pem::parse(text).map_err(|e| Error::content(path, e))?.into_contents())
}

fn write_cert(path: &std::path::Path, der: &[u8]) -> Result<()> {
    std::fs::write(path, ::pem::encode(&::pem::Pem::new("CERTIFICATE", der.to_vec()))).map_err(Error::file(path))
}

/// Where the issuing CA's key and certificate come from (configuration `[ca]`).
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaSource {
    /// A `pkcs11:` URI (HSM) or a PKCS#8 PEM file; default `<state_dir>/ca.key`, made on
    /// first start.
    pub key: Option<String>,
    /// Its certificate (PEM); default `<state_dir>/ca.pem`, made by the RA's root when
    /// missing.
    pub certificate: Option<std::path::PathBuf>,
}

impl Ca {
    /// What [`Ca::load_or_create`] would use, checked without making or writing anything
    /// (the key opened, an HSM's among them): a line saying what it is.
    pub fn check_source(dir: &std::path::Path, source: &CaSource) -> Result<String> {
        let cert_path = source.certificate.clone().unwrap_or_else(|| dir.join("ca.pem"));
        let key_path = dir.join("ca.key");
        match &source.key {
            Some(key) => {
                CaKey::open(key)?;
                Ok(format!("issuing CA key {key}"))
            }
            None if key_path.exists() => {
                read_key(&key_path)?;
                Ok(format!("issuing CA key {}", key_path.display()))
            }
            None if cert_path.exists() => Err(Error::CaKeyMissing { key: key_path, certificate: cert_path }),
            None => Ok(format!("issuing CA made at first start in {}", dir.display())),
        }
    }

    /// Load the CAs, or make what is missing on first start: the issuing CA's key
    /// (`<dir>/ca.key`, unless `source` names a file or an HSM key), a root CA (root.key,
    /// root.pem; take root.key offline once the issuing CA is certified), and the issuing
    /// CA's certificate from that root (ca.pem). The issuing CA signs certificates, CRLs
    /// and CMP answers.
    pub fn load_or_create(dir: &std::path::Path, common_name: &str, source: &CaSource) -> Result<Ca> {
        std::fs::create_dir_all(dir).map_err(Error::file(dir))?;
        let cert_path = source.certificate.clone().unwrap_or_else(|| dir.join("ca.pem"));
        let key_path = dir.join("ca.key");
        let key = match &source.key {
            Some(source) => CaKey::open(source)?,
            None if key_path.exists() => CaKey::File(Box::new(read_key(&key_path)?)),
            None if cert_path.exists() => return Err(Error::CaKeyMissing { key: key_path, certificate: cert_path }),
            None => {
                // The issuing CA: P-256.
                let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
                write_private(&key_path, &key.serialize_pem())?;
                CaKey::File(Box::new(key))
            }
        };
        let certificate = if cert_path.exists() {
            let certificate = read_cert(&cert_path)?;
            let spki = spki_of(&certificate);
            if tessera_pki::csr::subject_public_key(&spki).ok().as_deref()
                != Some(rcgen::PublicKeyData::der_bytes(&key))
            {
                return Err(Error::CertificateNotForKey { path: cert_path });
            }
            certificate
        } else {
            let root = Self::root(dir)?;
            let now = time::OffsetDateTime::now_utc();
            let mut params = Self::params(common_name)?;
            params.not_before = now - time::Duration::days(1);
            params.not_after = now + time::Duration::days(10 * 365);
            params.use_authority_key_identifier_extension = true;
            let certificate = params.signed_by(&key, &root)?.der().to_vec();
            write_cert(&cert_path, &certificate)?;
            tracing::info!(certificate = %cert_path.display(), "issuing CA certified by the root");
            certificate
        };
        // A state directory from before the root/issuing split has a self-signed CA.
        let root_path = dir.join("root.pem");
        let root = if root_path.exists() { read_cert(&root_path)? } else { certificate.clone() };
        // The issuer as its certificate names it (the encoding of each attribute kept, so
        // certificates name their issuer byte for byte as its certificate does).
        let _ = common_name;
        let issuer = Issuer::from_ca_cert_der(&certificate.clone().into(), key)?;
        Ok(Ca { issuer, root, crl_url: None, aia: None, policy: None, certificate })
    }

    /// The root CA, to certify the issuing CA: loaded from `dir`, or made there (P-384, 20
    /// years, may certify one level of CAs).
    fn root(dir: &std::path::Path) -> Result<Issuer<'static, KeyPair>> {
        let (key_path, cert_path) = (dir.join("root.key"), dir.join("root.pem"));
        if cert_path.exists() {
            if !key_path.exists() {
                return Err(Error::RootKeyOffline { path: key_path });
            }
            let der = read_cert(&cert_path)?;
            return Ok(Issuer::from_ca_cert_der(&der.into(), read_key(&key_path)?)?);
        }
        let now = time::OffsetDateTime::now_utc();
        let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)?;
        let mut root_params = CertificateParams::new(Vec::<String>::new())?;
        root_params.distinguished_name = name(&[
            (DnType::CountryName, "IT"),
            (DnType::OrganizationName, "Tessera RA"),
            (DnType::CommonName, "Tessera RA Root CA"),
        ])?;
        root_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
        root_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        root_params.not_before = now - time::Duration::days(1);
        root_params.not_after = now + time::Duration::days(20 * 365);
        let root = root_params.self_signed(&root_key)?.der().to_vec();
        write_private(&key_path, &root_key.serialize_pem())?;
        write_cert(&cert_path, &root)?;
        Ok(Issuer::new(root_params, root_key))
    }

    /// The chain a client needs besides its trust anchor, and the anchor: issuing, root.
    pub fn chain(&self) -> Vec<Vec<u8>> {
        if self.root == self.certificate {
            vec![self.certificate.clone()]
        } else {
            vec![self.certificate.clone(), self.root.clone()]
        }
    }

    fn params(common_name: &str) -> Result<CertificateParams> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name = name(&[
            (DnType::CountryName, "IT"),
            (DnType::OrganizationName, "Tessera RA"),
            (DnType::CommonName, common_name),
        ])?;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        // digitalSignature too: the CA also signs its CMP answers to signature-protected
        // requests (kur, rr), and CMP clients check for it.
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        Ok(params)
    }

    /// A TLS server certificate for `names` (DNS names or IP addresses), from the issuing
    /// CA, with a fresh P-256 key: (certificate chain DER, PKCS#8 key DER).
    pub fn tls_server(&self, names: &[String]) -> Result<(Vec<Vec<u8>>, Vec<u8>)> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::new(names.to_vec())?;
        params.distinguished_name =
            name(&[(DnType::CommonName, names.first().map(String::as_str).unwrap_or("tessera-ra"))])?;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::minutes(5);
        params.not_after = now + time::Duration::days(90);
        params.use_authority_key_identifier_extension = true;
        let leaf = params.signed_by(&key, &self.issuer)?.der().to_vec();
        Ok((vec![leaf, self.certificate.clone()], key.serialize_der()))
    }

    /// DER GeneralName (directoryName) of the CA, for CMP headers.
    pub fn general_name(&self) -> Vec<u8> {
        let subject = x509_subject(&self.certificate);
        tessera_protocol::asn1::explicit(4, &subject)
    }

    /// Sign a CMP ProtectedPart or an OCSP response with the issuing CA's key, by
    /// [`Ca::signature_algorithm`]. A failure (an HSM error) is an error, never an empty
    /// signature.
    pub fn sign(&self, data: &[u8]) -> std::result::Result<Vec<u8>, String> {
        match rcgen::SigningKey::sign(self.issuer.key(), data) {
            Ok(s) if !s.is_empty() => Ok(s),
            Ok(_) => Err("the CA key returned an empty signature".into()),
            Err(e) => Err(format!("the CA key could not sign: {e}")),
        }
    }

    /// The issuing CA certificate's subjectKeyIdentifier.
    pub fn key_id(&self) -> Option<Vec<u8>> {
        use x509_cert::der::Decode;
        let cert = x509_cert::Certificate::from_der(&self.certificate).ok()?;
        let ski = cert.tbs_certificate.extensions?.into_iter().find(|e| e.extn_id.to_string() == "2.5.29.14")?;
        let inner = der::asn1::OctetString::from_der(ski.extn_value.as_bytes()).ok()?;
        Some(inner.as_bytes().to_vec())
    }

    /// DER AlgorithmIdentifier of the CA key's signatures, for CMP protectionAlg.
    pub fn signature_algorithm(&self) -> Vec<u8> {
        use tessera_protocol::signature::{OID_ECDSA_SHA256, OID_ECDSA_SHA384, OID_RSA_SHA256, algorithm_identifier};
        let alg = rcgen::PublicKeyData::algorithm(self.issuer.key());
        algorithm_identifier(if alg == &rcgen::PKCS_ECDSA_P384_SHA384 {
            OID_ECDSA_SHA384
        } else if alg == &rcgen::PKCS_RSA_SHA256 {
            OID_RSA_SHA256
        } else {
            OID_ECDSA_SHA256
        })
    }

    /// Whether `certificate` was signed by this CA.
    pub fn issued(&self, certificate: &[u8]) -> bool {
        use tessera_protocol::asn1::{children, read_one};
        let parse = || -> Option<(Vec<u8>, Vec<u8>, Vec<u8>)> {
            let cert = read_one(certificate).ok()?;
            let f = children(cert.content).ok()?;
            let (tbs, alg, sig) = (f.first()?, f.get(1)?, f.get(2)?);
            let oid = tessera_protocol::signature::algorithm_oid(alg.raw).ok()?;
            Some((tbs.raw.to_vec(), oid, sig.content.get(1..)?.to_vec()))
        };
        let Some((tbs, oid, sig)) = parse() else { return false };
        let ours = spki_of(&self.certificate);
        tessera_protocol::signature::verify(&ours, &oid, &tbs, &sig).is_ok()
    }

    /// Issue a certificate for `spki` (the CSR's verified key) to `holder`.
    pub fn issue(&self, spki: &[u8], holder: &Holder, profile: Profile, days: i64) -> Result<Vec<u8>> {
        let now = time::OffsetDateTime::now_utc();
        self.issue_between(spki, holder, profile, now - time::Duration::minutes(5), now + time::Duration::days(days))
    }

    /// Issue with an explicit validity (renewal: it continues where the old one ends).
    pub fn issue_between(
        &self,
        spki: &[u8],
        holder: &Holder,
        profile: Profile,
        not_before: time::OffsetDateTime,
        not_after: time::OffsetDateTime,
    ) -> Result<Vec<u8>> {
        let key = SubjectPublicKeyInfo::from_der(spki)?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let cn = format!("{} {}", holder.surname, holder.given_name);
        let serial = holder.serial_number();
        let mut dn = vec![(DnType::CountryName, "IT")];
        // Optional subject data: the signature certificate only (DOMAIN.md).
        // A two-certificate request is issued one certificate profile at a time.
        let profile = if profile == Profile::CnsSignature { Profile::Signature } else { profile };
        let signature = profile == Profile::Signature;
        if let (true, Some(o), Some(id)) = (signature, &holder.organization, &holder.organization_identifier) {
            dn.push((DnType::OrganizationName, o));
            dn.push((DnType::CustomDnType(vec![2, 5, 4, 97]), id));
        }
        dn.extend([
            (DnType::CustomDnType(vec![2, 5, 4, 4]), holder.surname.as_str()),
            (DnType::CustomDnType(vec![2, 5, 4, 42]), &holder.given_name),
            (DnType::CustomDnType(vec![2, 5, 4, 5]), &serial),
            (DnType::CommonName, &cn),
        ]);
        if let (true, Some(title)) = (signature, &holder.title) {
            dn.push((DnType::CustomDnType(vec![2, 5, 4, 12]), title));
        }
        params.distinguished_name = name(&dn)?;
        params.custom_extensions = vec![subject_key_identifier(&key)];
        if let Some(aia) = &self.aia {
            params.custom_extensions.push(authority_information_access(aia));
        }
        match profile {
            Profile::Signature | Profile::CnsSignature => {
                params.key_usages = vec![KeyUsagePurpose::ContentCommitment];
                let qcp = oid_content(QCP_N_QSCD).expect("literal OID");
                let mut policies = vec![qcp.as_slice()];
                policies.extend(self.policy.as_deref());
                params.custom_extensions.push(certificate_policies(&policies));
                params.custom_extensions.push(qc_statements());
                if let Some(email) = &holder.email {
                    params.subject_alt_names = vec![rcgen::SanType::Rfc822Name(email.as_str().try_into()?)];
                }
            }
            Profile::CnsAuthentication => {
                params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
                params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
                if let Some(policy) = &self.policy {
                    params.custom_extensions.push(certificate_policies(&[policy]));
                }
            }
        }
        params.not_before = not_before;
        params.not_after = not_after;
        // A random 128-bit serial (positive): unique per CA whatever the key (rcgen would
        // derive it from the key, and two requests may certify the same key).
        let mut serial = [0u8; 16];
        getrandom::getrandom(&mut serial).map_err(|_| rcgen::Error::RingUnspecified)?;
        serial[0] &= 0x7F;
        serial[0] |= 0x01;
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
        if let Some(url) = &self.crl_url {
            params.crl_distribution_points = vec![rcgen::CrlDistributionPoint { uris: vec![url.clone()] }];
        }
        params.use_authority_key_identifier_extension = true;
        Ok(params.signed_by(&key, &self.issuer)?.der().to_vec())
    }
}

impl Ca {
    /// The DER subject Name of the CA (the issuer of its certificates).
    pub fn name(&self) -> Vec<u8> {
        x509_subject(&self.certificate)
    }

    /// A CRL of every suspended (certificateHold) and revoked certificate, valid a day;
    /// a key compromise with its invalidity date (`invalid_since`, Unix seconds by serial).
    pub fn crl(
        &self,
        entries: &[(Vec<u8>, crate::registry::Lifecycle)],
        invalid_since: &std::collections::HashMap<Vec<u8>, i64>,
        number: u64,
    ) -> Result<Vec<u8>> {
        use crate::registry::Lifecycle;
        let now = time::OffsetDateTime::now_utc();
        let revoked_certs = entries
            .iter()
            .filter_map(|(serial, state)| {
                let (at, reason) = match state.now(now) {
                    Lifecycle::Active => return None,
                    Lifecycle::Suspended { since } => (since, rcgen::RevocationReason::CertificateHold),
                    Lifecycle::Revoked { at, reason } => (at, reason_of(reason)),
                };
                Some(rcgen::RevokedCertParams {
                    serial_number: rcgen::SerialNumber::from_slice(serial),
                    revocation_time: at,
                    reason_code: Some(reason),
                    invalidity_date: invalid_since
                        .get(serial)
                        .filter(|_| reason == rcgen::RevocationReason::KeyCompromise)
                        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(*t).ok()),
                })
            })
            .collect();
        let params = rcgen::CertificateRevocationListParams {
            this_update: now,
            next_update: now + time::Duration::days(1),
            crl_number: rcgen::SerialNumber::from(number),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        };
        Ok(params.signed_by(&self.issuer)?.der().to_vec())
    }
}

fn reason_of(code: u8) -> rcgen::RevocationReason {
    use rcgen::RevocationReason as R;
    match code {
        1 => R::KeyCompromise,
        2 => R::CaCompromise,
        3 => R::AffiliationChanged,
        4 => R::Superseded,
        5 => R::CessationOfOperation,
        9 => R::PrivilegeWithdrawn,
        _ => R::Unspecified,
    }
}

/// The serial number (INTEGER content) of a DER certificate.
pub fn serial_of(der: &[u8]) -> Vec<u8> {
    let field = tbs_field(der, 0);
    tessera_protocol::asn1::read_one(&field).map(|t| t.content.to_vec()).unwrap_or_default()
}

/// QCStatements (RFC 3739, ETSI EN 319 412-5) of a qualified signature certificate:
/// QcCompliance, QcSSCD (key in a qualified device) and QcType esign.
fn qc_statements() -> rcgen::CustomExtension {
    use tessera_protocol::asn1::{sequence, tlv};
    let oid = |arcs: &[u8]| tlv(0x06, arcs);
    // 0.4.0.1862.1.1, 0.4.0.1862.1.4, 0.4.0.1862.1.6 with 0.4.0.1862.1.6.1
    let compliance = sequence(&[oid(&[0x04, 0x00, 0x8E, 0x46, 0x01, 0x01])]);
    let sscd = sequence(&[oid(&[0x04, 0x00, 0x8E, 0x46, 0x01, 0x04])]);
    let esign = sequence(&[
        oid(&[0x04, 0x00, 0x8E, 0x46, 0x01, 0x06]),
        sequence(&[oid(&[0x04, 0x00, 0x8E, 0x46, 0x01, 0x06, 0x01])]),
    ]);
    rcgen::CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 3], sequence(&[compliance, sscd, esign]))
}

/// Write a file only its owner can read (the CA key).
pub(crate) fn write_private(path: &std::path::Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).map_err(Error::file(path))?;
    f.write_all(text.as_bytes()).map_err(Error::file(path))
}

/// The raw SubjectPublicKeyInfo of a DER certificate.
pub fn spki_of(der: &[u8]) -> Vec<u8> {
    tbs_field(der, 5)
}

fn tbs_field(der: &[u8], index: usize) -> Vec<u8> {
    use tessera_protocol::asn1::{children, read_one};
    let Ok(cert) = read_one(der) else { return Vec::new() };
    let Some(tbs) = children(cert.content).ok().and_then(|c| c.first().copied()) else { return Vec::new() };
    let Ok(fields) = children(tbs.content) else { return Vec::new() };
    let offset = if fields.first().is_some_and(|f| f.tag == 0xA0) { 1 } else { 0 };
    fields.get(offset + index).map(|f| f.raw.to_vec()).unwrap_or_default()
}

/// The raw subject Name of a DER certificate.
fn x509_subject(der: &[u8]) -> Vec<u8> {
    // version [0], serial, signature, issuer, validity, subject, subjectPublicKeyInfo
    tbs_field(der, 4)
}

#[cfg(test)]
mod oid_tests {
    #[test]
    fn object_identifiers_of_any_arc_size_are_encoded_and_nonsense_refused() {
        assert_eq!(super::oid_content("2.5.29.32").unwrap(), [0x55, 0x1D, 0x20]);
        assert_eq!(super::oid_content("0.4.0.194112.1.2").unwrap(), [0x04, 0x00, 0x8B, 0xEC, 0x40, 0x01, 0x02]);
        assert_eq!(super::oid_content("1.2.840.113549").unwrap(), [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D]);
        let uuid = super::oid_content("2.25.216094497785934212785036409587311935043").unwrap();
        assert_eq!((uuid[0], uuid.len()), (0x69, 20), "2.25 and a 128-bit arc");
        for bad in ["", "1", "3.1", "1.40", "1.2.x", "1..2"] {
            assert_eq!(super::oid_content(bad), None, "{bad}");
        }
    }
}
