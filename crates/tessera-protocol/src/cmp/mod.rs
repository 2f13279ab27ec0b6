//! Lightweight CMP (RFC 9483) as the registration authority speaks it: requests parsed
//! from the bytes as received ([`parse`]), password-based MAC protection (RFC 4210
//! 5.1.3.1), the answers built as DER ([`answer`]), and the client's side ([`client`]).

mod answer;
mod client;
mod parse;
mod status;

pub use crate::mac::Pbm;
pub use answer::*;
pub use client::*;
pub use parse::*;
pub use status::{FailInfo, Status};

#[cfg(test)]
mod tests {
    use super::status::{fail_bits, status_info};
    use super::*;
    use crate::Error;
    use crate::asn1::{self, explicit, integer, sequence, tlv};

    fn pbm() -> Pbm {
        Pbm::sha256(b"0123456789abcdef", 500)
    }

    #[test]
    fn our_answers_parse_and_verify_with_the_same_secret() {
        let p = pbm();
        let request = Request {
            sender: explicit(4, &sequence(&[])),
            recipient: explicit(4, &sequence(&[])),
            sender_kid: Some(b"REF-1".to_vec()),
            transaction_id: Some(vec![1; 16]),
            sender_nonce: Some(vec![2; 16]),
            recip_nonce: None,
            cert_profile: None,
            body: Body::Other { tag: 4 },
            pvno: 2,
            pbm: Some(p),
            signature_alg: None,
            unsupported_protection: None,
            extra_certs: Vec::new(),
            protected_part: Vec::new(),
            protection: None,
        };
        let responder = Responder {
            sender: &explicit(4, &sequence(&[])),
            nonce: &[3; 16],
            signer: None,
            signer_kid: None,
            signer_alg: &[],
            signer_chain: &[],
        };
        let der = answer(&request, &responder, Some(b"secret"), Answer::Confirm).unwrap();
        let parsed = parse(&der).unwrap();
        assert_eq!(parsed.transaction_id, request.transaction_id);
        assert_eq!(parsed.sender_kid.as_deref(), Some(&b"REF-1"[..]));
        assert!(parsed.verify(b"secret").is_ok());
        assert_eq!(parsed.verify(b"wrong"), Err(Error::BadMac));
        let unprotected =
            answer(&request, &responder, None, Answer::Error { fail: FailInfo::BadRequest, text: "no" }).unwrap();
        assert_eq!(parse(&unprotected).unwrap().verify(b"secret"), Err(Error::Unprotected));
    }

    #[test]
    fn client_messages_verify_on_the_server_side() {
        let client =
            Client { reference: b"REQ-1", secret: b"code", transaction_id: [7; 16], salt: [9; 16], profile: Some("p") };
        let csr = sequence(&[integer(0)]);
        let request = parse(&client.p10cr(&[1; 16], &csr)).unwrap();
        assert_eq!(request.body, Body::P10cr { csr: csr.clone() });
        assert_eq!(request.cert_profile.as_deref(), Some("p"));
        assert_eq!(request.sender_kid.as_deref(), Some(&b"REQ-1"[..]));
        assert!(request.verify(b"code").is_ok());
        assert_eq!(request.verify(b"other"), Err(Error::BadMac));
        let conf = parse(&client.cert_conf(&[2; 16], &[3; 16], b"cert", -1)).unwrap();
        assert!(matches!(conf.body, Body::CertConf { cert_req_id: -1, rejected: false, .. }));
        assert!(conf.verify(b"code").is_ok());
    }

    #[test]
    fn failure_bits_are_minimal_bit_strings() {
        let info = status_info(Status::Rejection, Some(FailInfo::BadMessageCheck), None);
        assert_eq!(info, [0x30, 0x07, 0x02, 0x01, 0x02, 0x03, 0x02, 0x06, 0x40]);
    }

    #[test]
    fn an_ir_with_signature_pop_verifies_on_the_server_side() {
        use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        let alg = sequence(&[
            tlv(0x06, &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]),
            tlv(0x06, &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]),
        ]);
        let spki = sequence(&[alg, tlv(0x03, &[&[0u8][..], key.public_key().as_ref()].concat())]);
        let cr = cert_request(0, &spki, "ROSSI MARIO");
        let pop = key.sign(&rng, &cr).unwrap();
        let client = Client { reference: b"R", secret: b"s", transaction_id: [1; 16], salt: [2; 16], profile: None };
        let pop_alg = crate::signature::algorithm_identifier(crate::signature::OID_ECDSA_SHA256);
        let request = parse(&client.ir(&[3; 16], &cr, &pop_alg, pop.as_ref())).unwrap();
        let Body::Ir { request: parsed } = request.body else { panic!("not an ir") };
        assert_eq!(parsed.public_key, spki);
        assert!(parsed.verify_pop().is_ok());
        // The same request with another key's signature does not.
        let other = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let other = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, other.as_ref(), &rng).unwrap();
        let forged = parse(&client.ir(&[3; 16], &cr, &pop_alg, other.sign(&rng, &cr).unwrap().as_ref())).unwrap();
        let Body::Ir { request: forged } = forged.body else { panic!("not an ir") };
        assert!(forged.verify_pop().is_err());
    }

    #[test]
    fn genm_rejections_and_fail_bits_read_back() {
        let client = Client { reference: b"R", secret: b"s", transaction_id: [1; 16], salt: [2; 16], profile: None };
        let genm = parse(&client.genm_ca_certs(&[3; 16])).unwrap();
        assert_eq!(genm.body, Body::Genm { info_types: vec![OID_IT_CA_CERTS.to_vec()], with_value: false });
        let reject = parse(&client.cert_reject(&[3; 16], &[4; 16], b"cert", -1, "wrong key")).unwrap();
        assert!(matches!(reject.body, Body::CertConf { rejected: true, cert_req_id: -1, .. }));
        let info = status_info(Status::Rejection, Some(FailInfo::NotAuthorized), Some("no"));
        assert_eq!(fail_bits(asn1::read_one(&info).unwrap().content), Some(1 << 23));
    }

    #[test]
    fn a_signed_kur_carries_the_old_certificate_id_and_parses_back() {
        // A small certificate-shaped DER: tbs with serial, issuer and subject Names.
        let name = |cn: &[u8]| sequence(&[tlv(0x31, &sequence(&[tlv(0x06, &[0x55, 0x04, 0x03]), tlv(0x0C, cn)]))]);
        let alg = sequence(&[tlv(0x06, crate::signature::OID_ECDSA_SHA256)]);
        let validity = sequence(&[tlv(0x17, b"260101000000Z"), tlv(0x17, b"270101000000Z")]);
        let spki = sequence(&[sequence(&[tlv(0x06, &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01])]), tlv(0x03, &[0, 4])]);
        let tbs = sequence(&[
            explicit(0, &integer(2)),
            tlv(0x02, &[0x42]),
            alg.clone(),
            name(b"Issuing CA"),
            validity,
            name(b"ROSSI MARIO"),
            spki.clone(),
        ]);
        let cert = sequence(&[tbs, alg.clone(), tlv(0x03, &[0, 1])]);
        let request = renewal_request(0, &spki, "ROSSI MARIO", &name(b"Issuing CA"), &[0x42]);
        let signed = Signed { certificate: &cert, algorithm: &alg, transaction_id: [5; 16] };
        let (header, body) = signed.kur(&[6; 16], &request, &alg, &[1, 2, 3]);
        let der = signed.message(header.clone(), body.clone(), &[9, 9]);
        let parsed = parse(&der).unwrap();
        assert_eq!(parsed.signature_alg.as_deref(), Some(alg.as_slice()));
        assert_eq!(parsed.extra_certs, std::slice::from_ref(&cert));
        assert_eq!(parsed.sender, explicit(4, &name(b"ROSSI MARIO")));
        let Body::Kur { request: cr } = parsed.body else { panic!("{:?}", parsed.body) };
        assert_eq!(cr.old_cert_id, Some((explicit(4, &name(b"Issuing CA")), vec![0x42])));
        assert_eq!(Signed::protected_part(&header, &body), sequence(&[header, body]));
    }
}
