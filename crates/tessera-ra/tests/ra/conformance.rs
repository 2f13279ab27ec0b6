//! RFC 9483 conformance: a message whose header can be read is answered with a PKIMessage
//! carrying the failure RFC 9483 3.5 names; one that is not DER is refused; kur, rr and genm
//! are checked as the profile says. Requests are built here field by field (the captured
//! `openssl cmp` messages in tests/files/cmp are the well-formed references).

use super::exactly_once::post_cmp;
use super::*;
use tessera_protocol::asn1::{explicit, integer, octet_string, sequence, tlv};
use tessera_protocol::cmp::{self, Body};

const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
const IT_CA_CERTS: &[u8] = &[0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x04, 0x11];

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/files/cmp").join(name)).unwrap()
}

/// A MAC-protected request for REQ-0001 with the test code, built from its parts.
fn message(pvno: i64, sender: Vec<u8>, protection_alg: Option<Vec<u8>>, body: Vec<u8>) -> Vec<u8> {
    let pbm = cmp::Pbm::sha256(b"0123456789abcdef", 1000);
    let mut header = vec![integer(pvno), sender, explicit(4, &sequence(&[]))];
    header.push(explicit(1, protection_alg.as_deref().unwrap_or(&pbm.algorithm)));
    header.push(explicit(2, &octet_string(b"REQ-0001")));
    header.push(explicit(4, &octet_string(&[7; 16])));
    header.push(explicit(5, &octet_string(&[9; 16])));
    let header = sequence(&header);
    let mac = pbm.mac(b"ABCD-EFGH-JKLM", &sequence(&[header.clone(), body.clone()]));
    sequence(&[header, body, explicit(0, &tlv(0x03, &[&[0u8][..], &mac].concat()))])
}

fn null_dn() -> Vec<u8> {
    explicit(4, &sequence(&[]))
}

fn genm(with_value: bool) -> Vec<u8> {
    let mut itav = vec![tlv(0x06, IT_CA_CERTS)];
    if with_value {
        itav.push(vec![0x05, 0x00]);
    }
    explicit(21, &sequence(&[sequence(&itav)]))
}

/// The failure bit (RFC 4210 numbering) of an error answer.
fn failure(ra: &Ra, der: &[u8]) -> Option<u32> {
    let (status, answer) = post_cmp(ra, der, "application/pkixcmp");
    assert_eq!(status, 200, "answered with a PKIMessage");
    match cmp::parse(&answer).unwrap().body {
        Body::Error { fail_info, .. } => fail_info.map(|bits| bits.trailing_zeros()),
        other => panic!("not an error: {other:?}"),
    }
}

const BAD_ALG: u32 = 0;
const BAD_REQUEST: u32 = 2;
const BAD_DATA_FORMAT: u32 = 5;
const BAD_CERT_TEMPLATE: u32 = 19;
const UNSUPPORTED_VERSION: u32 = 22;

#[test]
fn messages_that_parse_but_are_unsupported_get_a_pkimessage_with_the_right_failure() {
    let ra = Ra::start();
    // The reference: the well-formed genm, built the same way, is answered.
    let (_, answer) = post_cmp(&ra, &message(2, null_dn(), None, genm(false)), "application/pkixcmp");
    assert!(matches!(cmp::parse(&answer).unwrap().body, Body::Genp { .. }));

    assert_eq!(failure(&ra, &message(5, null_dn(), None, genm(false))), Some(UNSUPPORTED_VERSION));
    assert_eq!(failure(&ra, &message(1, null_dn(), None, genm(false))), Some(UNSUPPORTED_VERSION));
    // genm caCerts with an infoValue.
    assert_eq!(failure(&ra, &message(2, null_dn(), None, genm(true))), Some(BAD_REQUEST));
    // A MAC-protected message whose sender is an rfc822Name.
    let mail = tlv(0x81, b"mario@example.org");
    assert_eq!(failure(&ra, &message(2, mail, None, genm(false))), Some(BAD_REQUEST));
    // Protection algorithms: HMAC-MD5 inside PBM, and an unknown OID: badAlg, not "a signature".
    let md5 = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x05];
    let pbm_md5 = sequence(&[
        tlv(0x06, &[0x2A, 0x86, 0x48, 0x86, 0xF6, 0x7D, 0x07, 0x42, 0x0D]),
        sequence(&[octet_string(b"salt"), sequence(&[tlv(0x06, &md5)]), integer(100), sequence(&[tlv(0x06, &md5)])]),
    ]);
    assert_eq!(failure(&ra, &message(2, null_dn(), Some(pbm_md5), genm(false))), Some(BAD_ALG));
    let unknown = sequence(&[tlv(0x06, &[0x2A, 0x03, 0x04])]);
    assert_eq!(failure(&ra, &message(2, null_dn(), Some(unknown), genm(false))), Some(BAD_ALG));
    // An rr without serialNumber or issuer.
    let rr = explicit(11, &sequence(&[sequence(&[sequence(&[])])]));
    assert_eq!(failure(&ra, &message(2, null_dn(), None, rr)), Some(BAD_CERT_TEMPLATE));
    // certConf with hashAlg [0] under pvno 2: not read as statusInfo, refused.
    let status = sequence(&[octet_string(&[1; 32]), integer(0), explicit(0, &sequence(&[tlv(0x06, SHA256)]))]);
    let conf = explicit(24, &sequence(&[status]));
    assert_eq!(failure(&ra, &message(2, null_dn(), None, conf)), Some(BAD_DATA_FORMAT));
}

#[test]
fn only_der_is_read_and_anything_else_is_refused_without_a_certificate() {
    let ra = Ra::start();
    let ir = fixture("ir.der");
    assert_eq!(cmp::parse(&ir).unwrap().pvno, 2, "the captured openssl ir parses");
    // The outer length in a longer form than needed.
    assert_eq!(ir[..2], [0x30, 0x82]);
    let mut long = vec![0x30, 0x83, 0x00];
    long.extend_from_slice(&ir[2..]);
    assert!(cmp::parse(&long).is_err());
    assert_eq!(post_cmp(&ra, &long, "application/pkixcmp").0, 400);
    // The protection BIT STRING with unused bits.
    let p10cr = fixture("p10cr.der");
    let request = cmp::parse(&p10cr).unwrap();
    assert!(request.sender_nonce.is_some());
    let at = p10cr.windows(3).rposition(|w| w[0] == 0x03 && w[2] == 0x00).unwrap();
    let mut bits = p10cr.clone();
    bits[at + 2] = 0x01;
    assert!(cmp::parse(&bits).is_err());
    assert_eq!(post_cmp(&ra, &bits, "application/pkixcmp").0, 400);
    // Truncated anywhere: refused, never a panic.
    for cut in (1..ir.len()).step_by(17) {
        let (status, _) = post_cmp(&ra, &ir[..cut], "application/pkixcmp");
        assert!(status == 400 || status == 429, "{cut}: {status}");
    }
    let (_, body) = operator_call(&ra, "GET", "/api/v1/operator/requests/REQ-0001", None);
    assert_eq!(body["certificates"].as_array().map(|c| c.len()), Some(0));
}

#[test]
fn kur_names_the_certificate_that_signs_it_and_revoked_and_foreign_signers_are_told_so() {
    let ra = Ra::start_with_validity(30);
    for k in ["a", "b", "new"] {
        ra.key(k);
    }
    assert!(ra.ir_mario("a.key", "a.pem").status.success());
    let cns = ra.cmp(&[
        "-cmd",
        "ir",
        "-ref",
        "REQ-0002",
        "-secret",
        "pass:NPQR-STUV-WXYZ",
        "-newkey",
        "b.key",
        "-subject",
        "/CN=x",
        "-certout",
        "b.pem",
    ]);
    assert!(cns.status.success(), "{}", text(&cns));
    // Signed with a, for the certificate b: oldCertID is not the signer.
    let wrong = ra.cmp(&[
        "-cmd", "kur", "-cert", "a.pem", "-key", "a.key", "-oldcert", "b.pem", "-newkey", "new.key", "-certout",
        "x.pem", "-trusted", "ca.pem",
    ]);
    assert!(!wrong.status.success());
    assert!(text(&wrong).contains("badCertId"), "{}", text(&wrong));
    // rr twice: the second is told the certificate is revoked.
    let rr = || {
        ra.cmp(&[
            "-cmd",
            "rr",
            "-cert",
            "b.pem",
            "-key",
            "b.key",
            "-oldcert",
            "b.pem",
            "-revreason",
            "1",
            "-trusted",
            "ca.pem",
        ])
    };
    assert!(rr().status.success());
    let again = rr();
    assert!(!again.status.success());
    assert!(text(&again).contains("certRevoked"), "{}", text(&again));
    // A signer from another CA: signerNotTrusted.
    let sh = |cmd: &str| {
        let o = Command::new("sh").current_dir(ra.dir.path()).arg("-c").arg(cmd).output().unwrap();
        assert!(o.status.success(), "{cmd}: {}", text(&o));
    };
    sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout o.key -subj /CN=Other -days 5 \
        -out o.pem 2>/dev/null");
    let foreign = ra.cmp(&[
        "-cmd", "kur", "-cert", "o.pem", "-key", "o.key", "-newkey", "new.key", "-certout", "y.pem", "-trusted",
        "ca.pem",
    ]);
    assert!(text(&foreign).contains("signerNotTrusted"), "{}", text(&foreign));
}

const BAD_POP: u32 = 9;
const NOT_AUTHORIZED: u32 = 23;

#[test]
fn an_iteration_count_above_the_cap_is_an_unsupported_algorithm_answered_with_bad_alg() {
    let ra = Ra::start();
    // PBMAC1 with PBKDF2 (HMAC-SHA256) at 262,144 iterations, as a third-party suite sends.
    let hmac_sha256 = sequence(&[tlv(0x06, &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x09]), vec![0x05, 0x00]]);
    let pbkdf2 = sequence(&[
        tlv(0x06, &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0C]),
        sequence(&[octet_string(b"0123456789abcdef"), integer(262_144), integer(32), hmac_sha256.clone()]),
    ]);
    let pbmac1 = sequence(&[
        tlv(0x06, &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0E]),
        sequence(&[pbkdf2, hmac_sha256]),
    ]);
    assert_eq!(failure(&ra, &message(2, null_dn(), Some(pbmac1), genm(false))), Some(BAD_ALG));
    // PasswordBasedMac likewise, and a count beyond 64 bits too.
    for count in [integer(262_144), tlv(0x02, &[0x01, 0, 0, 0, 0, 0, 0, 0, 0])] {
        let pbm = sequence(&[
            tlv(0x06, &[0x2A, 0x86, 0x48, 0x86, 0xF6, 0x7D, 0x07, 0x42, 0x0D]),
            sequence(&[
                octet_string(b"0123456789abcdef"),
                sequence(&[tlv(0x06, SHA256)]),
                count,
                sequence(&[tlv(0x06, &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x09])]),
            ]),
        ]);
        assert_eq!(failure(&ra, &message(2, null_dn(), Some(pbm), genm(false))), Some(BAD_ALG));
    }
}

/// An ir for a fresh P-256 key whose CertReqMsg carries `pop` after its CertRequest.
fn ir_with_pop(ra: &Ra, pop: Vec<u8>) -> Vec<u8> {
    let key = ra.key("pop");
    let spki = tool("openssl", &["pkey", "-in", key.to_str().unwrap(), "-pubout", "-outform", "DER"], &[]).stdout;
    let request = cmp::cert_request(0, &spki, "x");
    explicit(0, &sequence(&[sequence(&[request, pop])]))
}

/// The failure bit of an answer to `der`, which must be MAC-protected with the test code.
fn protected_failure(ra: &Ra, der: &[u8]) -> Option<u32> {
    let (status, answer) = post_cmp(ra, der, "application/pkixcmp");
    assert_eq!(status, 200);
    let answer = cmp::parse(&answer).unwrap();
    assert!(answer.pbm.is_some() && answer.verify(b"ABCD-EFGH-JKLM").is_ok(), "protected like any answer");
    match answer.body {
        Body::Error { fail_info, .. } => fail_info.map(|bits| bits.trailing_zeros()),
        other => panic!("not an error: {other:?}"),
    }
}

#[test]
fn every_proof_of_possession_choice_is_read_and_those_refused_are_named_in_a_protected_answer() {
    let ra = Ra::start();
    // raVerified [0] NULL, from an end entity: notAuthorized.
    let ra_verified = ir_with_pop(&ra, tlv(0x80, &[]));
    assert!(matches!(cmp::parse(&message(2, null_dn(), None, ra_verified.clone())).unwrap().body, Body::Ir { .. }));
    assert_eq!(protected_failure(&ra, &message(2, null_dn(), None, ra_verified)), Some(NOT_AUTHORIZED));
    // keyEncipherment [2] POPOPrivKey (subsequentMessage encrCert) and keyAgreement [3]
    // (dhMAC): valid CRMF, not a signature: badPOP.
    let encipherment = ir_with_pop(&ra, explicit(2, &tlv(0x81, &[0x00])));
    assert_eq!(protected_failure(&ra, &message(2, null_dn(), None, encipherment)), Some(BAD_POP));
    let agreement = ir_with_pop(&ra, explicit(3, &tlv(0x82, &[0x00, 0xAB, 0xCD])));
    assert_eq!(protected_failure(&ra, &message(2, null_dn(), None, agreement)), Some(BAD_POP));
    // A POPOPrivKey choice that does not exist is malformed.
    let unknown = ir_with_pop(&ra, explicit(2, &tlv(0x87, &[0x00])));
    assert_eq!(failure(&ra, &message(2, null_dn(), None, unknown)), Some(BAD_DATA_FORMAT));
    // Nothing was issued.
    let (_, body) = operator_call(&ra, "GET", "/api/v1/operator/requests/REQ-0001", None);
    assert_eq!(body["certificates"].as_array().map(|c| c.len()), Some(0));
}
