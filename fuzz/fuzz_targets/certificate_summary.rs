//! The certificate summary the Devices screen and renewal read from whatever a token holds.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tessera_pki::CertificateSummary::parse(data, time::OffsetDateTime::UNIX_EPOCH);
});
