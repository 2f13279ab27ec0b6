//! CRMF CertReqMessages (the content of ir and kur) and its proof of possession.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = tessera_protocol::crmf::parse(data) {
        let _ = request.verify_pop();
    }
});
