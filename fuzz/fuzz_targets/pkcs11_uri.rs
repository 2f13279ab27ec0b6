//! PKCS#11 URIs (RFC 7512) as users and settings give them: parsed or refused, and what
//! parses is matched against a token.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(uri) = tessera_pki::uri::Pkcs11Uri::parse(text)
    {
        let _ = uri.matches_token("label", "manufacturer", "serial", "model");
    }
});
