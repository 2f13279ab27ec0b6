//! CMP PKIMessage parsing (the RA's input from anyone), and for what parses: every check
//! the RA then makes on it, none of which may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = tessera_protocol::cmp::parse(data) {
        let _ = request.verify(b"ABCD-EFGH-JKLM");
        if let Some(cert) = request.extra_certs.first() {
            let _ = request.verify_signature(cert);
        }
        if let tessera_protocol::cmp::Body::Ir { request: cr } | tessera_protocol::cmp::Body::Kur { request: cr } =
            &request.body
        {
            let _ = cr.verify_pop();
        }
    }
});
