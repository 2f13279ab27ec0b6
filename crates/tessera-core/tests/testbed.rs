//! tessera-core against the real test bed: pcscd with vpcd readers and virtual cards,
//! SoftHSM2 tokens with the sample certificates.

use std::path::Path;
use std::time::Duration;

use tessera_core::atr::Atr;
use tessera_core::catalog::Identification;
use tessera_core::certs;
use tessera_core::devices::{Devices, Options, Snapshot};
use tessera_core::keys::{self, TokenSigner};
use tessera_core::pin::{self, FinalTry, Pin, Who};
use tessera_core::readers;
use tessera_core::token::{KeyPresence, PinState, TokenView};
use tessera_core::watch::{DeviceEvent, Watcher};
use tessera_pki::KeyAlgorithm;
use tessera_pki::{RenewalStatus, Role};
use tessera_testbed::*;

const R0: &str = "Virtual PCD 00 00";
const R1: &str = "Virtual PCD 00 01";

fn atr(s: &str) -> Atr {
    Atr(s.split(' ').map(|b| u8::from_str_radix(b, 16).unwrap()).collect())
}

fn softhsm_only() -> Options {
    Options { modules: vec![SOFTHSM_MODULE.into()], p11kit: false, catalog_modules: false }
}

fn token<'a>(s: &'a Snapshot, label: &str) -> &'a TokenView {
    s.tokens.iter().find(|t| t.label == label).unwrap_or_else(|| panic!("no token {label}: {s:#?}"))
}

fn codes(list: &[tessera_core::ErrorPayload]) -> Vec<&str> {
    list.iter().map(|p| p.code.as_str()).collect()
}

#[test]
fn readers_and_cards_are_listed_with_their_atr() {
    let _g = exclusive();
    let pcsc = Pcsc::start();
    apply_env(&pcsc.env());
    let _card = pcsc.insert(1, ATR_TESTBED);
    assert!(wait_until(Duration::from_secs(5), || readers::list().unwrap().iter().any(|r| r.card.is_some())));
    let list = readers::list().unwrap();
    let names: Vec<&str> = list.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, [R0, R1]);
    assert_eq!(list[0].card, None);
    assert_eq!(list[1].card, Some(atr(ATR_TESTBED)));
}

#[test]
fn watch_reports_insertion_and_removal() {
    let _g = exclusive();
    let pcsc = Pcsc::start();
    apply_env(&pcsc.env());
    let mut watcher = Watcher::new().unwrap();
    assert!(watcher.current().iter().all(|r| r.card.is_none()));
    let card = pcsc.insert(0, ATR_CNS_INFOCAMERE);
    let events = watcher.next_events().unwrap().unwrap();
    assert_eq!(events, [DeviceEvent::CardInserted { reader: R0.into(), atr: atr(ATR_CNS_INFOCAMERE) }]);
    card.remove();
    let events = watcher.next_events().unwrap().unwrap();
    assert_eq!(events, [DeviceEvent::CardRemoved { reader: R0.into() }]);
}

#[test]
fn watch_can_be_cancelled_from_another_thread() {
    let _g = exclusive();
    let pcsc = Pcsc::start();
    apply_env(&pcsc.env());
    let mut watcher = Watcher::new().unwrap();
    let canceller = watcher.canceller();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        canceller.cancel();
    });
    assert_eq!(watcher.next_events().unwrap(), None);
    t.join().unwrap();
}

#[test]
fn pcscd_not_running_is_a_clear_error_and_the_watch_notices_it_stopping() {
    let _g = exclusive();
    let pcsc = Pcsc::start();
    apply_env(&pcsc.env());
    let mut watcher = Watcher::new().unwrap();
    let stopper = std::thread::spawn({
        let dir = pcsc.dir().to_owned();
        move || {
            std::thread::sleep(Duration::from_millis(300));
            std::process::Command::new(root().join("testbed/pcscd-down.sh")).arg(dir).status().unwrap();
        }
    });
    let err = watcher.next_events().unwrap_err();
    stopper.join().unwrap();
    assert_eq!(err.code(), "pcsc-not-running", "{err:?}");
    pcsc.stop();
    let err = readers::list().unwrap_err();
    assert_eq!(err.code(), "pcsc-not-running");
    let snap = Devices::new(softhsm_only()).snapshot();
    assert!(snap.readers.is_none());
    assert_eq!(codes(&snap.problems), ["pcsc-not-running"]);
}

#[test]
fn no_reader_is_a_notice_not_a_failure() {
    let _g = exclusive();
    let pcsc = Pcsc::start_without_readers();
    let hsm = SoftHsm::empty();
    apply_env(&pcsc.env());
    apply_env(&hsm.env());
    let snap = Devices::new(softhsm_only()).snapshot();
    assert_eq!(snap.readers.as_deref().map(<[_]>::len), Some(0));
    assert_eq!(codes(&snap.notices), ["no-readers"]);
    assert!(snap.problems.is_empty(), "{:?}", snap.problems);
    assert!(snap.tokens.is_empty(), "SoftHSM's free slot is not a device");
}

#[test]
fn cards_are_identified_from_the_catalog() {
    let _g = exclusive();
    let pcsc = Pcsc::start();
    apply_env(&pcsc.env());
    let _a = pcsc.insert(0, ATR_CNS_INFOCAMERE);
    let _b = pcsc.insert(1, ATR_LAZIO_TS);
    let mut devices = Devices::new(Options { modules: vec![], p11kit: false, catalog_modules: false });
    assert!(wait_until(Duration::from_secs(5), || {
        devices.snapshot().readers.unwrap().iter().all(|r| r.card.is_some())
    }));
    let snap = devices.snapshot();
    let readers = snap.readers.unwrap();
    match &readers[0].card.as_ref().unwrap().identification {
        Identification::Known { model } => {
            assert_eq!(model.id, "it-cns-stincard");
            assert!(model.renewable && !model.obsolete);
        }
        other => panic!("{other:?}"),
    }
    match &readers[1].card.as_ref().unwrap().identification {
        Identification::Unknown { known_as } => {
            assert!(known_as.as_deref().unwrap_or_default().contains("Regione Lazio"), "{known_as:?}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn catalog_conflicts_and_missing_middleware_are_reported() {
    let _g = exclusive();
    let pcsc = Pcsc::start();
    apply_env(&pcsc.env());
    let files = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/files");
    apply_env(&[("TESSERA_DRIVERS".into(), files.display().to_string())]);
    let _a = pcsc.insert(0, ATR_TESTBED);
    let _b = pcsc.insert(1, ATR_UNKNOWN);
    let mut devices = Devices::new(Options { modules: vec![], p11kit: false, catalog_modules: true });
    assert!(wait_until(Duration::from_secs(5), || {
        devices.snapshot().readers.unwrap().iter().all(|r| r.card.is_some())
    }));
    let snap = devices.snapshot();
    let readers = snap.readers.as_ref().unwrap();
    assert!(matches!(&readers[0].card.as_ref().unwrap().identification,
        Identification::Conflict { candidates } if candidates.len() == 2));
    let conflict = snap.problems.iter().find(|p| p.code == "catalog-conflict").expect("conflict reported");
    assert_eq!(conflict.params["atr"], ATR_TESTBED);
    let missing = snap.problems.iter().find(|p| p.code == "card-module-missing").expect("missing middleware");
    assert_eq!(missing.params["card"], "Vendor CNS card");
    assert_eq!(missing.params["module"], "libvendor-cns-pkcs11-not-installed.so");
}

#[test]
fn sample_tokens_show_certificates_roles_holders_and_renewal_status() {
    let _g = exclusive();
    let pcsc = Pcsc::start_without_readers();
    let hsm = SoftHsm::with_samples();
    apply_env(&pcsc.env());
    apply_env(&hsm.env());
    let snap = Devices::new(softhsm_only()).snapshot();
    assert!(snap.problems.is_empty(), "{:?}", snap.problems);
    let mut labels: Vec<&str> = snap.tokens.iter().map(|t| t.label.as_str()).collect();
    labels.sort();
    assert_eq!(labels, ["Luca Bianchi Firma", "Mario Rossi CNS", "Varie"]);

    let cns = token(&snap, "Mario Rossi CNS");
    assert_eq!(cns.catalog.as_ref().map(|m| m.id.as_str()), Some("softhsm2"));
    assert_eq!(cns.pin.state, PinState::Ok);
    assert!(cns.pin.login_required);
    assert!(
        cns.uri.starts_with("pkcs11:token=Mario%20Rossi%20CNS;manufacturer=SoftHSM%20project;serial="),
        "{}",
        cns.uri
    );
    let [auth, sign] = cns.certificates.as_slice() else { panic!("{:#?}", cns.certificates) };
    assert_eq!(auth.summary.role, Role::Authentication);
    assert_eq!(auth.summary.holder_cf.as_deref(), Some("RSSMRA80A01H501U"), "CF from the CNS CN form");
    assert_eq!(sign.summary.role, Role::Signature);
    assert_eq!(sign.summary.holder_cf.as_deref(), Some("RSSMRA80A01H501U"), "CF from serialNumber TINIT-");
    assert_eq!(sign.summary.status, RenewalStatus::Valid);
    assert!(sign.uri.ends_with(";object=Firma;id=%02;type=cert"), "{}", sign.uri);
    assert_eq!(sign.private_key, KeyPresence::NotVisible, "SoftHSM hides private keys before login");

    let renew = token(&snap, "Luca Bianchi Firma");
    let by_id = |id: &str| renew.certificates.iter().find(|c| c.id == id).unwrap();
    let expiring = by_id("11");
    assert_eq!(expiring.summary.status, RenewalStatus::Renewable);
    assert!((29..=30).contains(&expiring.summary.days_left), "{}", expiring.summary.days_left);
    let expired = by_id("12");
    assert_eq!(expired.summary.status, RenewalStatus::Expired);
    assert!(expired.summary.days_left < 0);
    assert_eq!(by_id("13").private_key, KeyPresence::Missing);

    let varie = token(&snap, "Varie");
    let rsa1024 = varie.certificates.iter().find(|c| c.id == "21").unwrap();
    assert_eq!((rsa1024.summary.key.algorithm.as_str(), rsa1024.summary.key.bits), ("RSA", 1024));
    let accented = varie.certificates.iter().find(|c| c.id == "22").unwrap();
    assert_eq!(accented.summary.common_name, "FABBRÌ NICCOLÒ");
    assert_eq!(accented.summary.organization.as_deref(), Some("Società Cooperativa Àncora"));
    assert_eq!(accented.summary.key.curve.as_deref(), Some("P-256"));
    assert_eq!(accented.summary.role, Role::Encryption);
    assert_eq!(accented.summary.issuer, "Tessera Test CA");
}

#[test]
fn missing_and_broken_modules_are_clear_errors() {
    let _g = exclusive();
    let pcsc = Pcsc::start_without_readers();
    apply_env(&pcsc.env());
    // A real shared library that is not a PKCS#11 module.
    let not_pkcs11 = ["/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("libz present");
    let options = Options {
        modules: vec!["/nonexistent/libnothing-pkcs11.so".into(), not_pkcs11.into()],
        p11kit: false,
        catalog_modules: false,
    };
    let snap = Devices::new(options).snapshot();
    assert_eq!(codes(&snap.problems), ["module-missing", "module-load-failed"]);
    assert_eq!(snap.problems[0].params["module"], "/nonexistent/libnothing-pkcs11.so");
    assert_eq!(snap.problems[1].params["module"], not_pkcs11);
}

#[test]
fn p11kit_registered_modules_are_found() {
    let _g = exclusive();
    let pcsc = Pcsc::start_without_readers();
    let hsm = SoftHsm::with_samples();
    apply_env(&pcsc.env());
    apply_env(&hsm.env());
    // Debian's softhsm2 registers itself with p11-kit; no explicit module given.
    let snap = Devices::new(Options { modules: vec![], p11kit: true, catalog_modules: false }).snapshot();
    assert_eq!(snap.tokens.iter().filter(|t| t.manufacturer == "SoftHSM project").count(), 3, "{:#?}", snap.problems);
}

#[test]
fn card_middleware_from_p11kit_is_loaded_only_when_a_card_may_need_it() {
    let _g = exclusive();
    let pcsc = Pcsc::start();
    let hsm = SoftHsm::empty();
    apply_env(&pcsc.env());
    apply_env(&hsm.env());
    let options = Options { modules: vec![], p11kit: true, catalog_modules: true };
    let loaded = |snap: &Snapshot| -> Vec<String> {
        snap.modules.iter().map(|m| Path::new(&m.path).file_name().unwrap().to_string_lossy().into_owned()).collect()
    };
    // A card the catalog knows and that needs no middleware: OpenSC stays unloaded.
    let known = pcsc.insert(0, ATR_TESTBED);
    let mut devices = Devices::new(options.clone());
    assert!(wait_until(Duration::from_secs(5), || devices.snapshot().readers.unwrap()[0].card.is_some()));
    let snap = devices.snapshot();
    assert_eq!(loaded(&snap), ["libsofthsm2.so"], "{:?}", snap.modules);
    known.remove();
    // An unrecognised card: OpenSC may serve it, so it is loaded.
    let _unknown = pcsc.insert(1, ATR_UNKNOWN);
    let mut devices = Devices::new(options);
    assert!(wait_until(Duration::from_secs(5), || devices.snapshot().readers.unwrap()[1].card.is_some()));
    let snap = devices.snapshot();
    assert!(loaded(&snap).contains(&"opensc-pkcs11.so".to_owned()), "{:?}", snap.modules);
    let opensc = snap.modules.iter().find(|m| m.path.ends_with("opensc-pkcs11.so")).unwrap();
    assert_eq!(opensc.manufacturer, "OpenSC Project");
}

// ---- on-token primitives (SoftHSM2) ----

fn softhsm_bed() -> (Pcsc, SoftHsm) {
    let pcsc = Pcsc::start_without_readers();
    let hsm = SoftHsm::with_samples();
    apply_env(&pcsc.env());
    apply_env(&hsm.env());
    (pcsc, hsm)
}

const VARIE: &str = "pkcs11:token=Varie";

/// Run `f` on the token `uri` names, in a session logged in with the user PIN.
fn as_user<R>(
    devices: &mut Devices,
    uri: &str,
    read_write: bool,
    f: impl FnOnce(&tessera_core::token::OpenToken<'_>, &tessera_core::token::Session) -> Result<R, tessera_core::Error>,
) -> Result<R, tessera_core::Error> {
    devices.with_token(uri, |t| {
        let s = t.session(read_write)?;
        t.login(&s, Who::User, &Pin::new(USER_PIN), FinalTry::Refuse)?;
        f(t, &s)
    })
}

fn objects(devices: &mut Devices, uri: &str) -> usize {
    as_user(devices, uri, false, |_, s| Ok(s.find_objects(&[]).unwrap().len())).unwrap()
}

#[test]
fn every_algorithm_is_generated_on_the_token_and_signs_a_csr_openssl_accepts() {
    let _g = exclusive();
    let (_pcsc, _hsm) = softhsm_bed();
    let ca = OpensslCa::new();
    let mut devices = Devices::new(softhsm_only());
    for algorithm in KeyAlgorithm::ALL {
        let pem = as_user(&mut devices, VARIE, true, |t, s| {
            let info = keys::generate(t, s, algorithm, "Nuova chiave", None, false)?;
            assert_eq!(info.algorithm, algorithm);
            assert_eq!(info.id.len(), 16, "8 random bytes");
            assert!(info.uri.contains(";type=private"), "{}", info.uri);
            // The private key is sensitive and never extractable, as read back.
            let id = (0..8).map(|i| u8::from_str_radix(&info.id[2 * i..2 * i + 2], 16).unwrap()).collect::<Vec<_>>();
            let signer = TokenSigner::find(t, s, &id)?;
            assert_eq!(signer.info().public_key, info.public_key);
            let der = tessera_pki::csr::build(&signer, "ROSSI MARIO").unwrap();
            Ok(tessera_pki::csr::to_pem(&der))
        })
        .unwrap();
        assert!(ca.verify_csr(&pem), "{algorithm:?}: openssl req -verify refused\n{pem}");
    }
}

#[test]
fn certificates_are_installed_only_next_to_their_own_key() {
    let _g = exclusive();
    let (_pcsc, hsm) = softhsm_bed();
    let ca = OpensslCa::new();
    let mut devices = Devices::new(softhsm_only());
    let id = vec![0xA1, 0x01];
    let pem = as_user(&mut devices, VARIE, true, |t, s| {
        keys::generate(t, s, KeyAlgorithm::P256, "Firma 2027", Some(id.clone()), false)?;
        let signer = TokenSigner::find(t, s, &id)?;
        Ok(tessera_pki::csr::to_pem(&tessera_pki::csr::build(&signer, "ROSSI MARIO").unwrap()))
    })
    .unwrap();
    let issued = ca.issue(&pem);
    let before = objects(&mut devices, VARIE);

    // Someone else's certificate (a sample with its own key) is refused; nothing written.
    let foreign = std::fs::read(hsm.samples().join("Varie-21.crt.der")).unwrap();
    let err = as_user(&mut devices, VARIE, true, |t, s| certs::install(t, s, &id, "Firma 2027", &foreign, false))
        .unwrap_err();
    assert_eq!(err.code(), "certificate-key-mismatch");
    assert_eq!(objects(&mut devices, VARIE), before, "nothing written");

    // Its own certificate goes in, next to the key.
    let uri =
        as_user(&mut devices, VARIE, true, |t, s| certs::install(t, s, &id, "Firma 2027", &issued, false)).unwrap();
    assert!(uri.ends_with(";object=Firma%202027;id=%A1%01;type=cert"), "{uri}");
    assert_eq!(objects(&mut devices, VARIE), before + 1);
    let snap = devices.snapshot();
    let cert = token(&snap, "Varie").certificates.iter().find(|c| c.id == "a101").expect("listed");
    assert_eq!(cert.summary.issuer, "Tessera OpenSSL Test CA");
    assert_eq!(cert.private_key, KeyPresence::NotVisible);

    // A second certificate next to the same key never replaces the first.
    let err =
        as_user(&mut devices, VARIE, true, |t, s| certs::install(t, s, &id, "Firma 2027", &issued, false)).unwrap_err();
    assert_eq!(err.code(), "certificate-exists");
}

#[test]
fn ids_in_use_and_vague_deletes_are_refused() {
    let _g = exclusive();
    let (_pcsc, _hsm) = softhsm_bed();
    let mut devices = Devices::new(softhsm_only());
    let err = as_user(&mut devices, VARIE, true, |t, s| {
        keys::generate(t, s, KeyAlgorithm::P256, "x", Some(vec![0x21]), false)
    })
    .unwrap_err();
    assert_eq!(err.code(), "id-in-use");
    assert_eq!(err.params()["id"], "21");
    let delete = |devices: &mut Devices, uri: &str| {
        as_user(devices, uri, true, |_, s| {
            let parsed = tessera_core::uri::Pkcs11Uri::parse(uri).unwrap();
            certs::delete(s, &parsed, uri)
        })
    };
    assert_eq!(delete(&mut devices, VARIE).unwrap_err().code(), "selector-too-broad");
    assert_eq!(delete(&mut devices, "pkcs11:token=Varie;id=%99").unwrap_err().code(), "object-not-found");
    let before = objects(&mut devices, VARIE);
    assert_eq!(delete(&mut devices, "pkcs11:token=Varie;id=%21;type=cert").unwrap(), 1);
    assert_eq!(objects(&mut devices, VARIE), before - 1, "only the certificate went");
    assert_eq!(devices.with_token("pkcs11:token=Nessuno", |_| Ok(())).unwrap_err().code(), "token-not-found");
    assert_eq!(devices.with_token("token=Varie", |_| Ok(())).unwrap_err().code(), "invalid-uri");
}

#[test]
fn wrong_pin_reports_the_token_state_and_the_puk_resets_it() {
    let _g = exclusive();
    let (_pcsc, _hsm) = softhsm_bed();
    let mut devices = Devices::new(softhsm_only());
    let err = devices
        .with_token(VARIE, |t| pin::change(t, &Pin::new("000000"), &Pin::new("111111"), FinalTry::Refuse))
        .unwrap_err();
    assert_eq!(err.code(), "wrong-pin");
    // SoftHSM2 raises CKF_USER_PIN_COUNT_LOW after a wrong PIN (it never locks).
    assert_eq!(err.params()["state"], "count-low");
    let state = devices.with_token(VARIE, |t| t.pin_state()).unwrap();
    assert_eq!(state, PinState::CountLow);
    let err = devices.with_token(VARIE, |t| pin::unblock(t, &Pin::new("00000000"), &Pin::new("246810"))).unwrap_err();
    assert_eq!(err.code(), "wrong-puk");
    devices.with_token(VARIE, |t| pin::unblock(t, &Pin::new(SO_PIN), &Pin::new("246810"))).unwrap();
    assert_eq!(devices.with_token(VARIE, |t| t.pin_state()).unwrap(), PinState::Ok);
    devices.with_token(VARIE, |t| pin::change(t, &Pin::new("246810"), &Pin::new(USER_PIN), FinalTry::Refuse)).unwrap();
}

// ---- the virtual OpenPGP card through OpenSC over pcscd ----

const PGP_SIG: &str = "pkcs11:token=OpenPGP%20card%20(User%20PIN%20(sig))";
const PGP: &str = "pkcs11:token=OpenPGP%20card%20(User%20PIN)";

fn with_catalog_modules() -> Options {
    Options { modules: vec![], p11kit: false, catalog_modules: true }
}

/// Wait until OpenSC shows the card's two tokens.
fn openpgp_ready(devices: &mut Devices) {
    let ready = wait_until(Duration::from_secs(15), || {
        devices.snapshot().tokens.iter().filter(|t| t.label.starts_with("OpenPGP card")).count() == 2
    });
    assert!(ready, "OpenPGP card tokens did not appear: {:?}", devices.snapshot().problems);
}

fn generate(
    devices: &mut Devices,
    uri: &str,
    algorithm: KeyAlgorithm,
    id: Option<Vec<u8>>,
) -> Result<keys::KeyPairInfo, tessera_core::Error> {
    devices.with_token(uri, |t| {
        let s = t.session(true)?;
        t.login(&s, Who::So, &Pin::new(OPENPGP_ADMIN_PIN), FinalTry::Refuse)?;
        keys::generate(t, &s, algorithm, "Tessera", id, false)
    })
}

fn csr(devices: &mut Devices, uri: &str, id: &[u8]) -> Result<String, tessera_core::Error> {
    as_user(devices, uri, false, |t, s| {
        let signer = TokenSigner::find(t, s, id)?;
        Ok(tessera_pki::csr::to_pem(&tessera_pki::csr::build(&signer, "ROSSI MARIO").unwrap()))
    })
}

#[test]
fn openpgp_card_generates_signs_and_installs_through_opensc() {
    let _g = exclusive();
    let pcsc = Pcsc::start();
    apply_env(&pcsc.env());
    let _card = pcsc.insert_openpgp(0);
    let ca = OpensslCa::new();
    let mut devices = Devices::new(with_catalog_modules());
    openpgp_ready(&mut devices);
    let snap = devices.snapshot();
    let sig = token(&snap, "OpenPGP card (User PIN (sig))");
    assert_eq!(
        sig.catalog.as_ref().map(|m| m.id.as_str()),
        Some("openpgp-card-v3"),
        "linked to the card in the reader"
    );
    assert_eq!(sig.reader.as_deref(), Some(R0));

    // P-256 into the signature slot: the catalog says the admin PIN, and slot 01.
    let key = generate(&mut devices, PGP_SIG, KeyAlgorithm::P256, None).unwrap();
    assert_eq!(key.id, "01");
    let pem = csr(&mut devices, PGP_SIG, &[1]).unwrap();
    assert!(ca.verify_csr(&pem), "openssl refused the card's CSR");
    let issued = ca.issue(&pem);
    let uri = devices
        .with_token(PGP_SIG, |t| {
            let s = t.session(true)?;
            t.login(&s, Who::So, &Pin::new(OPENPGP_ADMIN_PIN), FinalTry::Refuse)?;
            certs::install(t, &s, &[1], "Firma", &issued, false)
        })
        .unwrap();
    assert!(uri.contains("id=%01;type=cert"), "{uri}");
    let snap = devices.snapshot();
    let cert = token(&snap, "OpenPGP card (User PIN (sig))")
        .certificates
        .iter()
        .find(|c| c.id == "01")
        .expect("certificate listed");
    assert_eq!(cert.private_key, KeyPresence::NotVisible, "OpenSC shows the card's private keys after login only");
    assert_eq!(cert.summary.key.curve.as_deref(), Some("P-256"));

    // P-384 into the decryption slot (an ECDH key: it cannot sign a request), RSA-2048
    // into the authentication slot.
    let key = generate(&mut devices, PGP, KeyAlgorithm::P384, Some(vec![2])).unwrap();
    assert_eq!((key.id.as_str(), key.algorithm), ("02", KeyAlgorithm::P384));
    let key = generate(&mut devices, PGP, KeyAlgorithm::Rsa2048, Some(vec![3])).unwrap();
    assert_eq!((key.id.as_str(), key.algorithm), ("03", KeyAlgorithm::Rsa2048));
    assert!(ca.verify_csr(&csr(&mut devices, PGP, &[3]).unwrap()));

    // What the card cannot do, or a slot already holding a key, is refused up front.
    assert_eq!(
        generate(&mut devices, PGP, KeyAlgorithm::Rsa3072, Some(vec![2])).unwrap_err().code(),
        "algorithm-unsupported"
    );
    assert_eq!(generate(&mut devices, PGP, KeyAlgorithm::P256, Some(vec![3])).unwrap_err().code(), "id-in-use");
}

#[test]
fn openpgp_pin_counts_down_locks_and_is_reset_with_the_admin_pin() {
    let _g = exclusive();
    let pcsc = Pcsc::start();
    apply_env(&pcsc.env());
    let _card = pcsc.insert_openpgp(1);
    let mut devices = Devices::new(with_catalog_modules());
    openpgp_ready(&mut devices);
    let login = |devices: &mut Devices, pin: &str, final_try: FinalTry| {
        devices.with_token(PGP_SIG, |t| {
            let s = t.session(false)?;
            t.login(&s, Who::User, &Pin::new(pin), final_try)
        })
    };
    let state = |devices: &mut Devices| devices.with_token(PGP_SIG, |t| t.pin_state()).unwrap();
    let tries = |devices: &mut Devices| devices.with_token(PGP_SIG, |t| Ok(t.pin_tries())).unwrap();
    assert_eq!(tries(&mut devices), Some(3), "the card's own retry counter");
    assert_eq!(login(&mut devices, "000000", FinalTry::Refuse).unwrap_err().code(), "wrong-pin");
    assert_eq!(tries(&mut devices), Some(2));
    let err = login(&mut devices, "000001", FinalTry::Refuse).unwrap_err();
    assert_eq!(err.params()["state"], "final-try");
    // The last try is not spent without confirmation, not even with the right PIN.
    assert_eq!(login(&mut devices, USER_PIN, FinalTry::Refuse).unwrap_err().code(), "pin-final-try");
    assert_eq!(state(&mut devices), PinState::FinalTry);
    assert_eq!(tries(&mut devices), Some(1), "nothing was spent");
    let err = login(&mut devices, "000002", FinalTry::Confirmed).unwrap_err();
    assert_eq!(err.params()["state"], "locked");
    assert_eq!(login(&mut devices, USER_PIN, FinalTry::Confirmed).unwrap_err().code(), "pin-locked");
    let unblock = |devices: &mut Devices, puk: &str| {
        devices.with_token(PGP_SIG, |t| pin::unblock(t, &Pin::new(puk), &Pin::new(USER_PIN)))
    };
    assert_eq!(unblock(&mut devices, "00000000").unwrap_err().code(), "wrong-puk");
    unblock(&mut devices, OPENPGP_ADMIN_PIN).unwrap();
    assert_eq!(state(&mut devices), PinState::Ok);
    login(&mut devices, USER_PIN, FinalTry::Refuse).unwrap();
}

#[test]
fn card_pulled_during_key_generation_is_a_clear_error_and_leaves_no_half_pair() {
    let _g = exclusive();
    let pcsc = Pcsc::start();
    apply_env(&pcsc.env());
    let card = pcsc.insert_openpgp(0);
    let mut devices = Devices::new(with_catalog_modules());
    openpgp_ready(&mut devices);
    let dir = pcsc.dir().to_owned();
    let puller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        std::process::Command::new(root().join("testbed/card-remove.sh")).arg(dir).arg("0").status().unwrap();
    });
    let err = generate(&mut devices, PGP, KeyAlgorithm::Rsa2048, Some(vec![3])).unwrap_err();
    puller.join().unwrap();
    std::mem::forget(card); // already pulled
    assert_eq!(err.code(), "token-removed", "{err:?}");
    // Back in the reader: the slot holds a whole key pair or nothing, never half of one.
    let _again = pcsc.insert_openpgp(0);
    let mut devices = Devices::new(with_catalog_modules());
    openpgp_ready(&mut devices);
    let (private, public) = as_user(&mut devices, PGP, false, |_, s| {
        let count = |class| {
            s.find_objects(&[cryptoki::object::Attribute::Class(class), cryptoki::object::Attribute::Id(vec![3])])
                .unwrap()
                .len()
        };
        Ok((count(cryptoki::object::ObjectClass::PRIVATE_KEY), count(cryptoki::object::ObjectClass::PUBLIC_KEY)))
    })
    .unwrap();
    assert_eq!(private, public, "private {private}, public {public}");
}

// ---- the virtual PIV card: keys and certificates by card commands, signing by PKCS#11 ----

#[test]
fn piv_keys_are_made_by_card_commands_and_sign_through_opensc_once_certified() {
    let _g = exclusive();
    let pcsc = Pcsc::start();
    apply_env(&pcsc.env());
    let _card = pcsc.insert_piv(1);
    let ca = OpensslCa::new();
    let mut devices = Devices::new(with_catalog_modules());
    assert!(wait_until(Duration::from_secs(15), || devices
        .snapshot()
        .tokens
        .iter()
        .any(|t| t.catalog.as_ref().is_some_and(|m| m.id == "piv-card"))));
    let serial = devices.snapshot().tokens.iter().find(|t| t.reader.as_deref() == Some(R1)).unwrap().serial.clone();
    // OpenSC renames the token after the first certificate's subject: select it by serial.
    let uri = format!("pkcs11:serial={serial}");
    let mgmt = tessera_core::piv::ManagementKey::from_hex(PIV_MANAGEMENT_KEY).unwrap();

    let wrong = tessera_core::piv::ManagementKey::from_hex(&"11".repeat(24)).unwrap();
    let err = devices
        .with_token(&uri, |t| keys::generate_with_card(t, &t.session(false)?, &wrong, KeyAlgorithm::P256, None, false))
        .unwrap_err();
    assert_eq!(err.code(), "management-key-rejected");

    // 9A (authentication) and 9E (card authentication): 9D is a key-management
    // (decryption) slot, which OpenSC does not let sign.
    for (algorithm, id) in [(KeyAlgorithm::P256, 1u8), (KeyAlgorithm::Rsa2048, 4u8)] {
        let key = devices
            .with_token(&uri, |t| {
                keys::generate_with_card(t, &t.session(false)?, &mgmt, algorithm, Some(vec![id]), false)
            })
            .unwrap();
        assert_eq!(key.algorithm, algorithm);
        let der =
            devices.with_token(&uri, |t| keys::csr_with_card(t, &Pin::new(USER_PIN), &key, "ROSSI MARIO")).unwrap();
        let pem = tessera_pki::csr::to_pem(&der);
        assert!(ca.verify_csr(&pem), "{algorithm:?}: openssl refused the card's CSR");
        let issued = ca.issue(&pem);

        // Someone else's certificate: the card cannot prove it holds that key; nothing written.
        if id == 1 {
            let foreign = ca.issue(&csr_from_softhsm());
            let err = devices
                .with_token(&uri, |t| certs::install_with_card(t, &Pin::new(USER_PIN), &mgmt, &[id], &foreign))
                .unwrap_err();
            assert_eq!(err.code(), "certificate-key-mismatch");
            assert!(devices.snapshot().tokens.iter().all(|t| t.certificates.is_empty()), "nothing written");
        }
        devices.with_token(&uri, |t| certs::install_with_card(t, &Pin::new(USER_PIN), &mgmt, &[id], &issued)).unwrap();
        // Now OpenSC sees key and certificate: signing goes through PKCS#11.
        let pem = as_user(&mut devices, &uri, false, |t, s| {
            let signer = TokenSigner::find(t, s, &[id])?;
            assert_eq!(signer.info().public_key, key.public_key, "the same key");
            Ok(tessera_pki::csr::to_pem(&tessera_pki::csr::build(&signer, "ROSSI MARIO").unwrap()))
        })
        .unwrap();
        assert!(ca.verify_csr(&pem));
    }
    // PIN tries counted by the card; the PUK unblocks it.
    for (pin, state) in [("000000", "count-low"), ("000001", "final-try")] {
        let key = keys::KeyPairInfo {
            uri: uri.clone(),
            id: "01".into(),
            label: String::new(),
            algorithm: KeyAlgorithm::P256,
            public_key: vec![],
        };
        let err = devices.with_token(&uri, |t| keys::csr_with_card(t, &Pin::new(pin), &key, "x")).unwrap_err();
        assert_eq!((err.code(), err.params()["state"].as_str()), ("wrong-pin", state));
    }
    let unblock = |devices: &mut Devices, puk: &str| {
        devices.with_token(&uri, |t| pin::unblock(t, &Pin::new(puk), &Pin::new(USER_PIN)))
    };
    assert_eq!(unblock(&mut devices, "87654321").unwrap_err().code(), "wrong-puk");
    assert_eq!(devices.with_token(&uri, |t| Ok(t.pin_tries())).unwrap(), Some(1));
    unblock(&mut devices, PIV_PUK).unwrap();
    assert_eq!(devices.with_token(&uri, |t| t.pin_state()).unwrap(), PinState::Ok);
    assert_eq!(devices.with_token(&uri, |t| Ok(t.pin_tries())).unwrap(), Some(3));

    let snap = devices.snapshot();
    let piv = snap.tokens.iter().find(|t| t.serial == serial).unwrap();
    let ids: Vec<&str> = piv.certificates.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["01", "04"]);
}

/// Another program's PC/SC transaction on the card: held for `hold`, then ended with a card
/// reset (what a middleware re-initialising does).
fn other_program_holds_then_resets(reader: &str, hold: Duration) -> std::thread::JoinHandle<std::time::Instant> {
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let reader = std::ffi::CString::new(reader).unwrap();
    let handle = std::thread::spawn(move || {
        let ctx = pcsc::Context::establish(pcsc::Scope::User).unwrap();
        let mut card = ctx.connect(&reader, pcsc::ShareMode::Shared, pcsc::Protocols::ANY).unwrap();
        let tx = card.transaction().unwrap();
        held_tx.send(()).unwrap();
        std::thread::sleep(hold);
        let released = std::time::Instant::now();
        tx.end(pcsc::Disposition::ResetCard).map_err(|(_, e)| e).unwrap();
        released
    });
    held_rx.recv().unwrap();
    handle
}

#[test]
fn piv_sequences_run_in_one_transaction_and_survive_another_programs_reset() {
    let _g = exclusive();
    let pcsc = Pcsc::start();
    apply_env(&pcsc.env());
    let _card = pcsc.insert_piv(1);
    let mut devices = Devices::new(with_catalog_modules());
    assert!(wait_until(Duration::from_secs(15), || devices
        .snapshot()
        .tokens
        .iter()
        .any(|t| t.reader.as_deref() == Some(R1))));
    let serial = devices.snapshot().tokens.iter().find(|t| t.reader.as_deref() == Some(R1)).unwrap().serial.clone();
    let uri = format!("pkcs11:serial={serial}");
    let mgmt = tessera_core::piv::ManagementKey::from_hex(PIV_MANAGEMENT_KEY).unwrap();
    let hold = Duration::from_millis(800);

    // Management key then GENERATE: the other program's transaction is not interleaved,
    // and its reset at the end is recovered from.
    let other = other_program_holds_then_resets(R1, hold);
    let key = devices
        .with_token(&uri, |t| {
            keys::generate_with_card(t, &t.session(false)?, &mgmt, KeyAlgorithm::P256, Some(vec![1]), false)
        })
        .unwrap();
    let done = std::time::Instant::now();
    assert!(done >= other.join().unwrap(), "GENERATE waited for the other program's transaction");

    // VERIFY then GENERAL AUTHENTICATE (for each signature), across a reset between them.
    let other = other_program_holds_then_resets(R1, hold);
    let der = devices.with_token(&uri, |t| keys::csr_with_card(t, &Pin::new(USER_PIN), &key, "ROSSI MARIO")).unwrap();
    assert!(std::time::Instant::now() >= other.join().unwrap());
    let ca = OpensslCa::new();
    assert!(ca.verify_csr(&tessera_pki::csr::to_pem(&der)), "the card signed after the reset");
}

/// A CSR for a key that is not on the PIV card (made on a SoftHSM2 token).
fn csr_from_softhsm() -> String {
    let hsm = SoftHsm::with_samples();
    let env = hsm.env();
    apply_env(&env);
    let mut devices = Devices::new(softhsm_only());
    as_user(&mut devices, VARIE, true, |t, s| {
        keys::generate(t, s, KeyAlgorithm::P256, "other", Some(vec![0x77]), false)?;
        let signer = TokenSigner::find(t, s, &[0x77])?;
        Ok(tessera_pki::csr::to_pem(&tessera_pki::csr::build(&signer, "OTHER").unwrap()))
    })
    .unwrap()
}

/// The fuzzers' corpora (fuzz/corpus) replayed: catalog entries load or are refused with
/// their file named, ATR patterns parse or are refused; never a panic.
#[test]
fn the_catalog_and_atr_corpora_load_or_are_refused() {
    let dir = |t: &str| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(t);
    for entry in std::fs::read_dir(dir("catalog_entry")).unwrap() {
        let path = entry.unwrap().path();
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let (catalog, problems) = tessera_core::catalog::Catalog::from_sources([("x.toml".to_owned(), text)]);
        assert_eq!(catalog.models.len() + problems.len(), 1, "{}", path.display());
    }
    for entry in std::fs::read_dir(dir("atr_pattern")).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        if let Ok(p) = tessera_core::atr::AtrPattern::parse(&String::from_utf8_lossy(&data)) {
            let _ = p.matches(&atr("3B 8F 80 01"));
        }
    }
}
