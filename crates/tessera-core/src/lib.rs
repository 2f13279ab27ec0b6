//! Tessera's client engine, with no UI: PC/SC readers and their events, the card catalog,
//! PKCS#11 tokens and their certificates, and the error codes the UI renders.
//!
//! Layering: `readers` and `watch` speak PC/SC; `token` speaks PKCS#11 (cryptoki);
//! `catalog` and `atr` turn an ATR into card knowledge from drivers/; `devices` puts them
//! together into one [`devices::Snapshot`] that the CLI prints and the window shows.
#![forbid(unsafe_code)]

pub mod apdu;
pub mod atr;
pub mod card;
pub mod cards;
pub mod catalog;
pub mod certs;
pub mod devices;
pub mod error;
pub mod keys;
pub mod live;
pub mod login;
/// Messages in the user's language (the catalogs of locales/).
pub mod messages {
    pub use tessera_locales::{Lang, Messages, Rendered};
}
pub mod modules;
pub mod openpgp;
pub mod pin;
pub mod pins;
pub mod piv;
pub mod readers;
pub mod token;
pub use tessera_pki::uri;
pub mod watch;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

pub use error::{Error, ErrorPayload};

/// OpenSC's file cache (`use_file_caching` in opensc.conf), which shows a card's old
/// objects until it is cleared: `$XDG_CACHE_HOME/opensc` or `~/.cache/opensc` (Windows:
/// `%APPDATA%\OpenSC\cache`).
pub fn opensc_cache_dir() -> Option<std::path::PathBuf> {
    if cfg!(target_os = "windows") {
        return std::env::var_os("APPDATA").map(|d| std::path::PathBuf::from(d).join("OpenSC").join("cache"));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))?;
    Some(cache.join("opensc"))
}

/// Clear OpenSC's file cache for the card with this serial (its files carry the serial in
/// their names), so that the middleware shows the card's new objects; returns how many
/// files went. Nothing else in the cache is touched.
pub fn clear_opensc_cache(serial: &str) -> std::io::Result<usize> {
    let serial = serial.trim().to_ascii_lowercase();
    let Some(dir) = opensc_cache_dir() else { return Ok(0) };
    if serial.is_empty() {
        return Ok(0);
    }
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut n = 0;
    for entry in entries {
        let entry = entry?;
        if entry.file_name().to_string_lossy().to_ascii_lowercase().contains(&serial) {
            std::fs::remove_file(entry.path())?;
            n += 1;
        }
    }
    Ok(n)
}
