//! Embeds the card catalog (drivers/*.toml), so an installed binary needs no data files;
//! TESSERA_DRIVERS can still add a directory.
use std::{env, fs, path::Path};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let mut out = String::from("pub(crate) const EMBEDDED_DRIVERS: &[(&str, &str)] = &[\n");
    let drivers = root.join("drivers");
    println!("cargo:rerun-if-changed={}", drivers.display());
    let mut files: Vec<_> = fs::read_dir(&drivers)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy();
        out += &format!("    ({name:?}, include_str!({:?})),\n", f.display().to_string());
    }
    out += "];\n";
    fs::write(Path::new(&env::var("OUT_DIR").unwrap()).join("embedded.rs"), out).unwrap();
}
