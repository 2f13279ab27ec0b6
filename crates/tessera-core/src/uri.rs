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
}
