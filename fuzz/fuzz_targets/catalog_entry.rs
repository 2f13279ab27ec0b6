//! A catalog entry (drivers/*.toml, or TESSERA_DRIVERS' files): loaded or refused, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let (catalog, _) = tessera_core::catalog::Catalog::from_sources([("fuzz.toml".to_owned(), text.to_owned())]);
        let atr = tessera_core::atr::Atr(vec![0x3B, 0x8F, 0x80, 0x01]);
        let _ = catalog.identify(&atr);
    }
});
