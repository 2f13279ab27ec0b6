//! The activation code as the CMP shared secret. Holders type it as they like (lower case,
//! spaces, without the dashes); client and RA both use its canonical form as the
//! password-based MAC secret: upper-case letters and digits in groups of four joined by
//! dashes (`K7QM-2XWD-9PHT`).

use zeroize::Zeroizing;

/// The canonical form of an activation code as typed.
pub fn canonical_code(typed: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(typed.len() + 4));
    for (i, c) in typed.chars().filter(char::is_ascii_alphanumeric).enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_compared_in_one_form_however_typed() {
        for typed in ["k7qm 2xwd 9pht", "K7QM-2XWD-9PHT", " k7qm2xwd9PHT\n", "K7-QM-2X-WD-9P-HT"] {
            assert_eq!(canonical_code(typed).as_str(), "K7QM-2XWD-9PHT", "{typed:?}");
        }
        assert_eq!(canonical_code("code").as_str(), "CODE");
        assert_eq!(canonical_code("").as_str(), "");
    }
}
