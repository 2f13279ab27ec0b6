//! Where PKCS#11 modules come from: an explicit path, p11-kit's registered modules (Linux),
//! or the catalog entry of a card in a reader.

use std::path::{Path, PathBuf};

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ModuleSource {
    /// Given by the user (`--module`, TESSERA_MODULES).
    Explicit,
    /// Registered with p11-kit (`/usr/share/p11-kit/modules/<name>.module`).
    P11Kit { name: String },
    /// Named by the catalog entry of a card in a reader.
    Catalog { model: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleSpec {
    /// As requested (file name or path).
    pub requested: String,
    /// The file that will be loaded, once found.
    pub path: Option<PathBuf>,
    pub source: ModuleSource,
}

/// Directories searched for a module given by file name.
pub fn search_dirs() -> Vec<PathBuf> {
    let triplet = format!("{}-linux-gnu", std::env::consts::ARCH);
    let mut dirs: Vec<PathBuf> = Vec::new();
    if cfg!(target_os = "linux") {
        for d in [
            format!("/usr/lib/{triplet}/pkcs11"),
            format!("/usr/lib/{triplet}"),
            "/usr/lib64/pkcs11".into(),
            "/usr/lib/pkcs11".into(),
            "/usr/lib64".into(),
            "/usr/lib".into(),
            "/usr/local/lib".into(),
        ] {
            dirs.push(d.into());
        }
    } else if cfg!(target_os = "macos") {
        dirs.extend(["/usr/local/lib", "/opt/homebrew/lib", "/Library/OpenSC/lib"].map(PathBuf::from));
    }
    dirs
}

/// The file for a module name: an existing absolute path, or the first match in the
/// search directories.
pub fn resolve(name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.is_absolute() || name.contains(std::path::MAIN_SEPARATOR) && p.exists() {
        return p.exists().then(|| p.to_path_buf());
    }
    search_dirs().into_iter().map(|d| d.join(name)).find(|c| c.exists())
}

pub fn explicit(name: &str) -> ModuleSpec {
    ModuleSpec { requested: name.to_owned(), path: resolve(name), source: ModuleSource::Explicit }
}

/// p11-kit's registered modules, less trust-policy modules (the system CA store is not a
/// token) and those disabled for Tessera (`disable-in: tessera`, or `enable-in` without it).
pub fn p11kit() -> Vec<ModuleSpec> {
    let mut dirs = vec![PathBuf::from("/usr/share/p11-kit/modules"), PathBuf::from("/etc/pkcs11/modules")];
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".config/pkcs11/modules"));
    }
    let mut specs = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "module"))
            .collect();
        files.sort();
        for f in files {
            let Ok(text) = std::fs::read_to_string(&f) else { continue };
            let name = f.file_stem().unwrap_or_default().to_string_lossy().into_owned();
            if let Some(spec) = parse_p11kit(&name, &text) {
                specs.retain(|s: &ModuleSpec| s.source != spec.source);
                specs.push(spec);
            }
        }
    }
    specs
}

fn parse_p11kit(name: &str, text: &str) -> Option<ModuleSpec> {
    let mut module = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        let (key, value) = (key.trim(), value.trim());
        let listed = |v: &str| v.split(',').any(|x| x.trim() == "tessera");
        match key {
            "module" => module = Some(value.to_owned()),
            "trust-policy" if value == "yes" => return None,
            "disable-in" if listed(value) => return None,
            "enable-in" if !listed(value) => return None,
            _ => {}
        }
    }
    let module = module?;
    Some(ModuleSpec {
        path: resolve(&module),
        requested: module,
        source: ModuleSource::P11Kit { name: name.to_owned() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p11kit_files_are_parsed_and_filtered() {
        let s = parse_p11kit("softhsm2", "# c\nmodule: /nonexistent/libsofthsm2.so\n").unwrap();
        assert_eq!(s.requested, "/nonexistent/libsofthsm2.so");
        assert_eq!(s.path, None);
        assert!(parse_p11kit("trust", "module: p11-kit-trust.so\ntrust-policy: yes\n").is_none());
        assert!(parse_p11kit("x", "module: x.so\ndisable-in: tessera, firefox\n").is_none());
        assert!(parse_p11kit("x", "module: x.so\nenable-in: firefox\n").is_none());
        assert!(parse_p11kit("x", "module: x.so\nenable-in: tessera\n").is_some());
    }
}
