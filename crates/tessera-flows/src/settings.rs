//! Where the registration authority is and which CA to trust for it: `settings.toml` in
//! the OS config directory (`TESSERA_CONFIG_DIR` overrides it), each field overridable on
//! the command line. Without a file, the test bed's RA on loopback.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The RA the demo test bed starts (testbed/up.sh).
pub const DEFAULT_RA: &str = "http://127.0.0.1:8080";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The RA's base URL: CMP at `<ra>/.well-known/cmp`, the workflow API under `/api/v1`.
    #[serde(default = "default_ra")]
    pub ra: String,
    /// PEM file with the RA's CA certificates (root first or last): the only trust anchor
    /// for the RA's TLS and for issued certificates. Without it, plain-HTTP loopback only,
    /// and issued certificates must chain to the caPubs of an answer protected by the
    /// activation code.
    #[serde(default)]
    pub ra_ca: Option<PathBuf>,
}

fn default_ra() -> String {
    DEFAULT_RA.to_owned()
}

impl Default for Settings {
    fn default() -> Self {
        Settings { ra: default_ra(), ra_ca: None }
    }
}

/// The directory Tessera keeps its settings in.
pub fn config_dir() -> PathBuf {
    std::env::var_os("TESSERA_CONFIG_DIR")
        .map(PathBuf::from)
        .or_else(|| dirs::config_dir().map(|d| d.join("tessera")))
        .unwrap_or_else(|| PathBuf::from(".tessera"))
}

/// The directory Tessera keeps its journal in.
pub fn data_dir() -> PathBuf {
    std::env::var_os("TESSERA_DATA_DIR")
        .map(PathBuf::from)
        .or_else(|| dirs::data_dir().map(|d| d.join("tessera")))
        .unwrap_or_else(|| PathBuf::from(".tessera"))
}

impl Settings {
    /// `settings.toml` from the config directory, or the defaults when there is none.
    pub fn load() -> Result<Settings> {
        Self::load_from(&config_dir().join("settings.toml"))
    }

    pub fn load_from(path: &Path) -> Result<Settings> {
        let storage = |reason: String| Error::Storage { path: path.display().to_string(), reason };
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| storage(e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(e) => Err(storage(e.to_string())),
        }
    }

    /// The trust anchors' DER certificates, from `ra_ca`.
    pub fn anchors(&self) -> Result<Vec<Vec<u8>>> {
        let Some(path) = &self.ra_ca else { return Ok(Vec::new()) };
        let storage = |reason: String| Error::Storage { path: path.display().to_string(), reason };
        let text = std::fs::read(path).map_err(|e| storage(e.to_string()))?;
        let certs: Vec<Vec<u8>> = pem::parse_many(&text)
            .map_err(|e| storage(e.to_string()))?
            .into_iter()
            .filter(|p| p.tag() == "CERTIFICATE")
            .map(|p| p.into_contents())
            .collect();
        if certs.is_empty() {
            return Err(storage("no CERTIFICATE in the file".into()));
        }
        Ok(certs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_gives_the_test_bed_defaults_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Settings::load_from(&dir.path().join("none.toml")).unwrap(), Settings::default());
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "ra = \"https://ra.example\"\nverify = false\n").unwrap();
        assert_eq!(Settings::load_from(&bad).unwrap_err().code(), "storage-failed");
        let good = dir.path().join("good.toml");
        std::fs::write(&good, "ra = \"https://ra.example\"\nra_ca = \"/etc/ra.pem\"\n").unwrap();
        let s = Settings::load_from(&good).unwrap();
        assert_eq!((s.ra.as_str(), s.ra_ca.as_deref()), ("https://ra.example", Some(Path::new("/etc/ra.pem"))));
    }
}
