//! PKCS#11 URIs (RFC 7512) naming tokens and objects.

/// Characters allowed unescaped in a path attribute value (RFC 7512 pk11-pchar).
fn allowed(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~:[]@!$'()*+,=&".contains(&b) && b != b'&'
}

fn encode(value: &[u8], out: &mut String) {
    for &b in value {
        if allowed(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// Builds a `pkcs11:` URI from path attributes in RFC 7512 order.
#[derive(Debug, Default, Clone)]
pub struct UriBuilder {
    parts: Vec<(&'static str, Vec<u8>)>,
}

impl UriBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A text attribute (token, manufacturer, serial, model, object, type); empty values
    /// are left out.
    pub fn attr(mut self, name: &'static str, value: &str) -> Self {
        let v = value.trim_end();
        if !v.is_empty() {
            self.parts.push((name, v.as_bytes().to_vec()));
        }
        self
    }

    /// The CKA_ID, always fully percent-encoded.
    pub fn id(mut self, id: &[u8]) -> Self {
        if !id.is_empty() {
            self.parts.push(("id", id.to_vec()));
        }
        self
    }

    pub fn build(&self) -> String {
        let mut out = String::from("pkcs11:");
        for (i, (name, value)) in self.parts.iter().enumerate() {
            if i > 0 {
                out.push(';');
            }
            out.push_str(name);
            out.push('=');
            if *name == "id" {
                for b in value {
                    out.push_str(&format!("%{b:02X}"));
                }
            } else {
                encode(value, &mut out);
            }
        }
        out
    }
}

/// A parsed `pkcs11:` URI: the attributes Tessera selects tokens and objects by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    pub token: Option<String>,
    pub manufacturer: Option<String>,
    pub serial: Option<String>,
    pub model: Option<String>,
    pub object: Option<String>,
    pub id: Option<Vec<u8>>,
    /// cert, public, private, secret-key, data.
    pub object_type: Option<String>,
    /// Query attribute `module-path`: load this module for it.
    pub module_path: Option<String>,
    /// Query attribute `pin-source`: where the PIN is read from (a file, `file:` or not).
    pub pin_source: Option<String>,
    /// Whether the URI carries `pin-value` (a PIN in the clear, refused by those who log in).
    pub has_pin_value: bool,
}

fn decode(value: &str) -> Result<Vec<u8>, String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value.get(i + 1..i + 3).ok_or_else(|| format!("truncated escape in {value:?}"))?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| format!("bad escape %{hex}"))?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

impl Pkcs11Uri {
    pub fn parse(text: &str) -> Result<Pkcs11Uri, String> {
        let rest = text.strip_prefix("pkcs11:").ok_or("a PKCS#11 URI starts with \"pkcs11:\"")?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut uri = Pkcs11Uri::default();
        let text_of = |v: &str| decode(v).and_then(|b| String::from_utf8(b).map_err(|e| e.to_string()));
        for part in path.split(';').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').ok_or_else(|| format!("attribute without value: {part:?}"))?;
            match name {
                "token" => uri.token = Some(text_of(value)?),
                "manufacturer" => uri.manufacturer = Some(text_of(value)?),
                "serial" => uri.serial = Some(text_of(value)?),
                "model" => uri.model = Some(text_of(value)?),
                "object" => uri.object = Some(text_of(value)?),
                "id" => uri.id = Some(decode(value)?),
                "type" => uri.object_type = Some(text_of(value)?),
                _ => {} // library-*, slot-*: not needed to select
            }
        }
        for part in query.split('&').filter(|p| !p.is_empty()) {
            if let Some(v) = part.strip_prefix("module-path=") {
                uri.module_path = Some(text_of(v)?);
            } else if let Some(v) = part.strip_prefix("pin-source=") {
                uri.pin_source = Some(text_of(v)?);
            } else if part.starts_with("pin-value=") {
                uri.has_pin_value = true;
            }
        }
        Ok(uri)
    }

    /// Whether a token with these attributes is the one this URI names.
    pub fn matches_token(&self, label: &str, manufacturer: &str, serial: &str, model: &str) -> bool {
        let ok = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have.trim_end());
        ok(&self.token, label)
            && ok(&self.manufacturer, manufacturer)
            && ok(&self.serial, serial)
            && ok(&self.model, model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7512_examples() {
        let uri = UriBuilder::new()
            .attr("token", "Mario Rossi CNS")
            .attr("manufacturer", "SoftHSM project")
            .attr("serial", "c6c03a16ca8e649b")
            .attr("object", "Firma;x/y")
            .id(&[0x02])
            .attr("type", "cert")
            .build();
        assert_eq!(
            uri,
            "pkcs11:token=Mario%20Rossi%20CNS;manufacturer=SoftHSM%20project;serial=c6c03a16ca8e649b;object=Firma%3Bx%2Fy;id=%02;type=cert"
        );
        assert_eq!(UriBuilder::new().attr("token", "Società").build(), "pkcs11:token=Societ%C3%A0");
        assert_eq!(UriBuilder::new().attr("model", "   ").build(), "pkcs11:");
    }

    #[test]
    fn parse_round_trips_what_we_build() {
        let text = UriBuilder::new()
            .attr("token", "Società;1")
            .attr("serial", "ab")
            .id(&[0x11, 0xff])
            .attr("type", "cert")
            .build();
        let uri = Pkcs11Uri::parse(&text).unwrap();
        assert_eq!(uri.token.as_deref(), Some("Società;1"));
        assert_eq!(uri.id.as_deref(), Some(&[0x11, 0xff][..]));
        assert_eq!(uri.object_type.as_deref(), Some("cert"));
        assert!(uri.matches_token("Società;1", "x", "ab", "m"));
        assert!(!uri.matches_token("Società;1", "x", "ac", "m"));
        let q = Pkcs11Uri::parse("pkcs11:token=A?module-path=/usr/lib/x.so&pin-source=file:/p").unwrap();
        assert_eq!(q.module_path.as_deref(), Some("/usr/lib/x.so"));
        assert_eq!(q.pin_source.as_deref(), Some("file:/p"));
        assert!(!q.has_pin_value && Pkcs11Uri::parse("pkcs11:?pin-value=1234").unwrap().has_pin_value);
        assert!(Pkcs11Uri::parse("token=A").is_err());
        assert!(Pkcs11Uri::parse("pkcs11:id=%1").is_err());
    }
}
