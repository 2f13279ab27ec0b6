//! Answers-to-reset and the patterns the catalog matches them with.

use std::fmt;

use serde::{Serialize, Serializer};

/// A card's answer to reset; in JSON and the UI, its hex string ("3B 8C 01 …").
#[derive(Clone, PartialEq, Eq, Hash, ts_rs::TS)]
#[ts(type = "string")]
pub struct Atr(pub Vec<u8>);

impl fmt::Display for Atr {
    /// Upper-case hex bytes separated by spaces, as pcsc-tools and vendors print them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Atr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Atr({self})")
    }
}

impl Serialize for Atr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// An ATR pattern: hex bytes where `.` stands for any nibble ("3B FF 18 00 .. 81 3.").
/// Separators (spaces, colons) are optional between bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtrPattern {
    value: Vec<u8>,
    mask: Vec<u8>,
}

impl AtrPattern {
    pub fn parse(text: &str) -> Result<Self, String> {
        let nibbles: Vec<char> = text.chars().filter(|c| !matches!(c, ' ' | ':' | '\t')).collect();
        if nibbles.is_empty() || !nibbles.len().is_multiple_of(2) {
            return Err(format!("odd or empty ATR pattern {text:?}"));
        }
        let mut value = Vec::with_capacity(nibbles.len() / 2);
        let mut mask = Vec::with_capacity(nibbles.len() / 2);
        for pair in nibbles.chunks(2) {
            let (mut v, mut m) = (0u8, 0u8);
            for &c in pair {
                v <<= 4;
                m <<= 4;
                if c != '.' {
                    let d = c.to_digit(16).ok_or_else(|| format!("bad character {c:?} in ATR pattern"))?;
                    v |= d as u8;
                    m |= 0xF;
                }
            }
            value.push(v);
            mask.push(m);
        }
        Ok(AtrPattern { value, mask })
    }

    /// One ATR the pattern matches (wildcards as zero): for tests and examples.
    pub fn example(&self) -> Vec<u8> {
        self.value.clone()
    }

    /// Same length, and equal under the mask.
    pub fn matches(&self, atr: &Atr) -> bool {
        atr.0.len() == self.value.len() && atr.0.iter().zip(&self.value).zip(&self.mask).all(|((a, v), m)| a & m == *v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atr(s: &str) -> Atr {
        Atr(s.split(' ').map(|b| u8::from_str_radix(b, 16).unwrap()).collect())
    }

    #[test]
    fn wildcards_match_any_nibble() {
        let p = AtrPattern::parse("3B FF 18 00 .. 81 3.").unwrap();
        assert!(p.matches(&atr("3B FF 18 00 FF 81 31")));
        assert!(p.matches(&atr("3B FF 18 00 00 81 3F")));
        assert!(!p.matches(&atr("3B FF 18 00 00 81 41")));
        assert!(!p.matches(&atr("3B FF 18 00 00 81")), "length must match");
    }

    #[test]
    fn colons_and_lower_case_are_accepted() {
        let p = AtrPattern::parse("3b:ff:18").unwrap();
        assert!(p.matches(&atr("3B FF 18")));
        assert!(AtrPattern::parse("3B F").is_err());
        assert!(AtrPattern::parse("3B GG").is_err());
    }

    #[test]
    fn displays_like_pcsc_tools() {
        assert_eq!(atr("3B 8A 01").to_string(), "3B 8A 01");
    }
}
