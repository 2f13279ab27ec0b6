//! ATR patterns ("3B FF .. 81 3."), and matching an ATR made of the rest of the input.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.first().map(|&n| n as usize % (data.len().max(1))).unwrap_or(0);
    let (pattern, atr) = data.split_at(split);
    if let Ok(text) = std::str::from_utf8(pattern)
        && let Ok(p) = tessera_core::atr::AtrPattern::parse(text)
    {
        let _ = p.matches(&tessera_core::atr::Atr(atr.to_vec()));
    }
});
