//! Birth places as tax codes name them: the Belfiore (cadastral) code of an Italian
//! municipality (`H501` Rome) or of a foreign state (`Z1xx`…`Z3xx`), from the table the
//! `codice_fiscale` crate carries (current and former municipalities).

use std::sync::OnceLock;

fn table() -> &'static codice_fiscale::belfiore::Belfiore {
    static TABLE: OnceLock<codice_fiscale::belfiore::Belfiore> = OnceLock::new();
    TABLE.get_or_init(codice_fiscale::belfiore::Belfiore::init)
}

/// A place: its code, name and province (`EE` for a foreign state).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Place {
    pub code: String,
    pub name: String,
    pub province: String,
}

/// The place a code stands for.
pub fn by_code(code: &str) -> Option<Place> {
    table().lookup_belfiore(code.trim()).map(|m| Place {
        code: m.belfiore_code.clone(),
        name: m.name.clone(),
        province: m.province.clone(),
    })
}

/// The place a name stands for (`ROMA`, `Forlì`, `Albania`): accents and case as anyone
/// types them.
pub fn by_name(name: &str) -> Option<Place> {
    let wanted = as_registered(name);
    table().get_info(&wanted).map(|m| Place {
        code: m.belfiore_code.clone(),
        name: m.name.clone(),
        province: m.province.clone(),
    })
}

/// Whether `name` is a name of the place `code` (any of its names, former ones too).
pub fn is_named(code: &str, name: &str) -> bool {
    by_code(code).is_some_and(|p| p.name == as_registered(name))
}

/// A place name as the table writes it: upper case, an accented last vowel as the vowel
/// and an apostrophe (`Forlì` → `FORLI'`), single spaces.
pub fn as_registered(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::new();
    for c in name.trim().nfd() {
        match c {
            '\u{0300}' | '\u{0301}' => out.push('\''),
            c if unicode_normalization::char::is_combining_mark(c) => {}
            c if c.is_whitespace() => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            c => out.extend(c.to_uppercase()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn places_are_found_by_code_and_by_name() {
        assert_eq!(super::by_code("H501").map(|p| p.name), Some("ROMA".into()));
        assert_eq!(super::by_name("Roma").map(|p| p.code), Some("H501".into()));
        assert!(super::is_named("D704", "Forlì") && super::is_named("D703", "forli'"), "former and current");
        assert!(!super::is_named("H501", "Milano"));
        assert_eq!(super::as_registered("  Forlì   del Sannio "), "FORLI' DEL SANNIO");
        assert_eq!(super::by_code("Z100").map(|p| p.province), Some("EE".into()));
        assert_eq!(super::by_code("Q999"), None);
    }
}
