//! `tessera://` links, as the RA's e-mails and the registration console give them: what
//! each may say, and nothing more. A link only opens a screen: it never carries a code,
//! a PIN or anything secret, and anything it does not expect refuses it whole.
//!
//! - `tessera://activate?reference=R`: the activation of request R (the activation e-mail)
//! - `tessera://renew?serial=S`: the renewal of certificate S (the renewal notices)
//! - `tessera://counter?reference=R`: the counter activation of R (the console)

use serde::Serialize;

use crate::error::{Error, Result};

/// A link's longest accepted form, and a reference's.
const MAX_LINK: usize = 512;
const MAX_REFERENCE: usize = 64;
/// A certificate serial: at most 20 octets (RFC 5280 4.1.2.2), in hexadecimal.
const MAX_SERIAL_HEX: usize = 40;

/// What a link asks the app to open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Link {
    /// The activation wizard, for the request `reference` (the holder types the code).
    Activate { reference: String },
    /// The renewal of the certificate whose serial is `serial` (lower-case hexadecimal).
    Renew { serial: String },
    /// The counter activation of the request `reference` (operator mode).
    Counter { reference: String },
}

/// A link as the window receives it: what to open, or why it was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Opened {
    pub link: Option<Link>,
    pub error: Option<tessera_core::ErrorPayload>,
}

impl Opened {
    pub fn of(text: &str) -> Opened {
        match Link::parse(text) {
            Ok(link) => Opened { link: Some(link), error: None },
            Err(e) => {
                // What was wrong, never the link (it may carry what it should not).
                tracing::warn!(code = e.code(), detail = %e, "link refused");
                Opened { link: None, error: Some(e.payload()) }
            }
        }
    }
}

/// Whether a command-line argument is meant as a link (the desktop entry passes it as is).
pub fn is_link(arg: &str) -> bool {
    arg.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("tessera:"))
}

fn refused(detail: &str) -> Error {
    Error::LinkRefused { detail: detail.to_owned() }
}

impl Link {
    /// Parse `text`, refusing anything but the three forms above: another scheme, an
    /// unknown action or parameter, a parameter missing or repeated, a user, port, path or
    /// fragment, a value of the wrong shape, control characters, over-long text. A link
    /// with a code is refused on its own ([`Error::LinkCarriesCode`]), since whoever made
    /// it wants the code where it does not belong.
    pub fn parse(text: &str) -> Result<Link> {
        if text.len() > MAX_LINK {
            return Err(refused("too long"));
        }
        if text.chars().any(char::is_control) {
            return Err(refused("control characters"));
        }
        if !is_link(text) {
            return Err(refused("not a tessera: link"));
        }
        let url = url::Url::parse(text).map_err(|_| refused("malformed"))?;
        if !url.username().is_empty() || url.password().is_some() || url.port().is_some() {
            return Err(refused("user or port"));
        }
        if !matches!(url.path(), "" | "/") || url.fragment().is_some() {
            return Err(refused("path or fragment"));
        }
        // Each parameter is `name=value`, nothing empty between them; names as written.
        let mut pairs = Vec::new();
        for segment in url.query().unwrap_or_default().split('&').filter(|_| url.query().is_some()) {
            let mut parsed = url::form_urlencoded::parse(segment.as_bytes());
            let (Some((name, value)), None, true) = (parsed.next(), parsed.next(), segment.contains('=')) else {
                return Err(refused("empty or malformed parameter"));
            };
            if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
                return Err(refused("control characters or spaces"));
            }
            if matches!(
                name.to_ascii_lowercase().as_str(),
                "code" | "activation_code" | "activation-code" | "otp" | "pin" | "puk"
            ) {
                return Err(Error::LinkCarriesCode);
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        let action = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let expected = match action.as_str() {
            "activate" | "counter" => "reference",
            "renew" => "serial",
            _ => return Err(refused("unknown action")),
        };
        let value = match pairs.as_slice() {
            [(name, value)] if name == expected => value.clone(),
            [] => return Err(refused("missing parameter")),
            [(name, _)] if name != expected => return Err(refused("unknown parameter")),
            _ => return Err(refused("unknown or repeated parameters")),
        };
        match action.as_str() {
            "activate" => Ok(Link::Activate { reference: reference(&value)? }),
            "counter" => Ok(Link::Counter { reference: reference(&value)? }),
            _ => Ok(Link::Renew { serial: serial(&value)? }),
        }
    }
}

/// A request reference as the RA makes them: letters, digits, `-`, `_`, `.`.
/// A request's reference as links and `--reference` may give it: letters, digits, `-`,
/// `_` and `.` (not only dots), at most 64.
pub fn reference(value: &str) -> Result<String> {
    let ok = !value.is_empty()
        && value.len() <= MAX_REFERENCE
        && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !value.chars().all(|c| c == '.');
    if ok { Ok(value.to_owned()) } else { Err(refused("malformed reference")) }
}

/// A serial in hexadecimal, with or without colons, any case: lower-case hexadecimal.
fn serial(value: &str) -> Result<String> {
    let hex: String = value.chars().filter(|c| *c != ':').collect::<String>().to_ascii_lowercase();
    let ok = !hex.is_empty() && hex.len() <= MAX_SERIAL_HEX && hex.chars().all(|c| c.is_ascii_hexdigit());
    if ok { Ok(hex) } else { Err(refused("malformed serial")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(text: &str) -> String {
        match Link::parse(text) {
            Ok(link) => panic!("{text:?} accepted as {link:?}"),
            Err(e) => e.code().to_owned(),
        }
    }

    #[test]
    fn the_three_links_parse() {
        assert_eq!(
            Link::parse("tessera://activate?reference=REQ-0001").unwrap(),
            Link::Activate { reference: "REQ-0001".into() }
        );
        assert_eq!(
            Link::parse("TESSERA://Counter?reference=RM01.2026_7").unwrap(),
            Link::Counter { reference: "RM01.2026_7".into() }
        );
        assert_eq!(
            Link::parse("tessera://renew/?serial=7E:22:17:E2:3A").unwrap(),
            Link::Renew { serial: "7e2217e23a".into() }
        );
        assert_eq!(
            Link::parse("tessera://activate?reference=REQ%2D0001").unwrap(),
            Link::Activate { reference: "REQ-0001".into() },
            "percent-encoding is decoded before the value is checked"
        );
    }

    #[test]
    fn a_code_in_a_link_is_refused_on_its_own() {
        for link in [
            "tessera://activate?reference=REQ-1&code=ABCD-EFGH-JKLM",
            "tessera://activate?code=ABCD-EFGH-JKLM",
            "tessera://counter?reference=R&Activation_Code=X",
            "tessera://renew?serial=01&pin=123456",
        ] {
            assert_eq!(code_of(link), "link-carries-code", "{link}");
        }
    }

    #[test]
    fn anything_unexpected_refuses_the_whole_link() {
        let long = format!("tessera://activate?reference={}", "A".repeat(600));
        let long_reference = format!("tessera://activate?reference={}", "A".repeat(65));
        let long_serial = format!("tessera://renew?serial={}", "a".repeat(41));
        for link in [
            "https://activate?reference=REQ-1",
            "tessera:activate?reference=REQ-1",
            "tessera://install?reference=REQ-1",
            "tessera://activate",
            "tessera://activate?serial=01",
            "tessera://activate?reference=REQ-1&reference=REQ-2",
            "tessera://activate?reference=REQ-1&next=x",
            "tessera://activate?reference=REQ 1",
            "tessera://activate?reference=REQ%0A1",
            "tessera://activate?reference=REQ\n1",
            "tessera://activate?reference=%3Cscript%3E",
            "tessera://activate?reference=",
            "tessera://user@activate?reference=REQ-1",
            "tessera://activate:8080?reference=REQ-1",
            "tessera://activate/elsewhere?reference=REQ-1",
            "tessera://activate?reference=REQ-1#x",
            "tessera://renew?serial=xyz",
            "tessera://renew?serial=",
            "tessera://activate?reference=REQ-1&",
            "tessera://activate?&reference=REQ-1",
            "tessera://activate?reference=REQ-1&&x=1",
            "tessera://activate?reference",
            "tessera://activate?Reference=REQ-1",
            "tessera://activate?reference=+REQ-1+",
            "tessera://activate?reference=%20REQ-1",
            "tessera://activate?reference=REQ-1%C2%A0",
            "tessera://activate?reference=R%C3%89Q",
            long.as_str(),
            long_reference.as_str(),
            long_serial.as_str(),
            "",
        ] {
            assert_eq!(code_of(link), "link-refused", "{link:?}");
        }
    }

    #[test]
    fn only_tessera_arguments_are_taken_for_links() {
        assert!(is_link("tessera://activate?reference=R"));
        assert!(is_link("Tessera:x"));
        assert!(!is_link("--lang"));
        assert!(!is_link("tesser"));
        assert!(!is_link("/tmp/tessera:x"));
    }
}
