//! The Italian tax code [codice fiscale, CF]: 16 characters, surname (3 letters), name (3),
//! birth year (2 digits), month letter, birth day (2 digits, +40 for women), place code
//! (letter + 3 digits) and a check letter computed from the first 15. In case of
//! collision [omocodia] digits are replaced, right to left, by the letters LMNPQRSTUV.

use serde::Serialize;

/// Letters that stand for the digits 0..=9 in an omocodia code.
const OMOCODIA: &[u8; 10] = b"LMNPQRSTUV";
/// Value of a character in an odd (1st, 3rd, ...) position, indexed by digit or letter.
const ODD: [u32; 26] = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];
/// Positions (0-based) that hold digits, or omocodia letters.
const DIGIT_POSITIONS: [usize; 7] = [6, 7, 9, 10, 12, 13, 14];
const MONTHS: &[u8] = b"ABCDEHLMPRST";

/// The outcome of checking a codice fiscale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum CfCheck {
    /// Well formed with the right check letter (normalised to upper case).
    Valid { code: String },
    /// Well formed, but the check letter should be `expected`.
    WrongCheckLetter { code: String, expected: char },
    /// Not of the codice fiscale's form; `position` is the first wrong character (0-based).
    Malformed { position: usize },
}

/// Check a codice fiscale: form, month, day range, and check letter.
pub fn check(input: &str) -> CfCheck {
    let code: String = input.trim().to_ascii_uppercase();
    let bytes = code.as_bytes();
    if bytes.len() != 16 || !code.is_ascii() {
        return CfCheck::Malformed { position: bytes.len().min(16) };
    }
    for (i, &b) in bytes[..15].iter().enumerate() {
        let ok = if DIGIT_POSITIONS.contains(&i) {
            b.is_ascii_digit() || OMOCODIA.contains(&b)
        } else if i == 8 {
            MONTHS.contains(&b)
        } else {
            b.is_ascii_uppercase()
        };
        if !ok {
            return CfCheck::Malformed { position: i };
        }
    }
    let day = digit(bytes[9]) * 10 + digit(bytes[10]);
    if !(1..=31).contains(&day) && !(41..=71).contains(&day) {
        return CfCheck::Malformed { position: 9 };
    }
    if !bytes[15].is_ascii_uppercase() {
        return CfCheck::Malformed { position: 15 };
    }
    let expected = check_letter(&bytes[..15]);
    if bytes[15] as char == expected { CfCheck::Valid { code } } else { CfCheck::WrongCheckLetter { code, expected } }
}

/// A code an operator forces (omocodia the register got wrong, data that do not match): not
/// checked for its month, day or check letter, but still of the tax code's shape, 16
/// characters of A-Z and 0-9, letters where letters go and digits (or their omocodia
/// letters) where digits go, so that it is a PrintableString in every certificate. The
/// normalised code, or the first character out of shape (0-based).
pub fn forced_shape(input: &str) -> Result<String, usize> {
    let code: String = input.trim().to_ascii_uppercase();
    let bytes = code.as_bytes();
    for (i, &b) in bytes.iter().enumerate().take(16) {
        let ok = if DIGIT_POSITIONS.contains(&i) {
            b.is_ascii_digit() || OMOCODIA.contains(&b)
        } else {
            b.is_ascii_uppercase()
        };
        if !ok {
            return Err(i);
        }
    }
    if bytes.len() != 16 {
        return Err(bytes.len().min(16));
    }
    Ok(code)
}

/// The check letter for the first 15 characters (upper case, already validated).
pub fn check_letter(first15: &[u8]) -> char {
    let sum: u32 = first15
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            let index = if b.is_ascii_digit() { (b - b'0') as usize } else { (b - b'A') as usize };
            if i % 2 == 0 { ODD[index] } else { index as u32 }
        })
        .sum();
    (b'A' + (sum % 26) as u8) as char
}

fn digit(b: u8) -> u32 {
    match OMOCODIA.iter().position(|&l| l == b) {
        Some(d) => d as u32,
        None => (b - b'0') as u32,
    }
}

/// Find a codice fiscale in a certificate field: `TINIT-<CF>` (ETSI EN 319 412-1 semantics
/// identifier in serialNumber) or the CNS authentication CN form `<CF>/<card>.<hash>`.
pub fn from_subject_field(value: &str) -> Option<String> {
    let candidate = if let Some(rest) = value.strip_prefix("TINIT-") {
        rest
    } else {
        value.split_once('/').map(|(head, _)| head)?
    };
    match check(candidate) {
        CfCheck::Valid { code } => Some(code),
        _ => None,
    }
}

/// Whether `input` is an Italian VAT number [partita IVA], which is also the tax code of
/// companies and bodies: 11 digits, the last one a check digit (odd positions summed as
/// they are, even positions doubled less 9 when over 9).
pub fn valid_partita_iva(input: &str) -> bool {
    let digits: Vec<u32> = input.trim().chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 11 || input.trim().len() != 11 {
        return false;
    }
    let sum: u32 = digits[..10]
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 0 {
                d
            } else if 2 * d > 9 {
                2 * d - 9
            } else {
                2 * d
            }
        })
        .sum();
    (10 - sum % 10) % 10 == digits[10]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partite_iva_are_checked_by_their_last_digit() {
        assert!(valid_partita_iva("00743110157"));
        assert!(valid_partita_iva(" 12345678903 "));
        assert!(!valid_partita_iva("12345678901"), "wrong check digit");
        assert!(!valid_partita_iva("1234567890"), "ten digits");
        assert!(!valid_partita_iva("1234567890A"));
    }

    #[test]
    fn accepts_a_valid_code_in_any_case() {
        assert_eq!(check("rssmra80a01h501u"), CfCheck::Valid { code: "RSSMRA80A01H501U".into() });
    }

    #[test]
    fn suggests_the_check_letter() {
        assert_eq!(
            check("RSSMRA80A01H501X"),
            CfCheck::WrongCheckLetter { code: "RSSMRA80A01H501X".into(), expected: 'U' }
        );
    }

    #[test]
    fn accepts_omocodia_and_women_days() {
        // Digits of RSSMRA80A01H501 with the last one replaced by its letter (1 -> M).
        let first15 = b"RSSMRA80A01H50M";
        let code = format!("{}{}", std::str::from_utf8(first15).unwrap(), check_letter(first15));
        assert!(matches!(check(&code), CfCheck::Valid { .. }), "{code}");
        let woman = b"BNCLCU75C55F205";
        let code = format!("{}{}", std::str::from_utf8(woman).unwrap(), check_letter(woman));
        assert!(matches!(check(&code), CfCheck::Valid { .. }), "{code}");
    }

    #[test]
    fn rejects_wrong_forms_with_the_position() {
        assert_eq!(check("RSSMRA80A01H501"), CfCheck::Malformed { position: 15 });
        assert_eq!(check("RSSMR480A01H501U"), CfCheck::Malformed { position: 5 });
        assert_eq!(check("RSSMRA80Z01H501U"), CfCheck::Malformed { position: 8 });
        assert_eq!(check("RSSMRA80A35H501U"), CfCheck::Malformed { position: 9 });
        assert_eq!(check("RSSMRA80A01H5è1U"), CfCheck::Malformed { position: 16 });
    }

    #[test]
    fn extracts_from_certificate_fields() {
        assert_eq!(from_subject_field("TINIT-RSSMRA80A01H501U").as_deref(), Some("RSSMRA80A01H501U"));
        assert_eq!(
            from_subject_field("RSSMRA80A01H501U/7420000000012345.ZxqYbLFX=").as_deref(),
            Some("RSSMRA80A01H501U")
        );
        assert_eq!(from_subject_field("ROSSI MARIO"), None);
        assert_eq!(from_subject_field("TINIT-RSSMRA80A01H501X"), None);
    }

    #[test]
    fn a_forced_code_keeps_the_tax_codes_shape() {
        use super::forced_shape;
        assert_eq!(forced_shape(" rssmra80a01h501x "), Ok("RSSMRA80A01H501X".into()), "a wrong check letter");
        assert_eq!(forced_shape("RSSMRA80Z99H501U"), Ok("RSSMRA80Z99H501U".into()), "month and day not checked");
        assert_eq!(forced_shape("RSSMRA80*01H501U"), Err(8));
        assert_eq!(forced_shape("<script>alert(1)"), Err(0));
        assert_eq!(forced_shape("RSSMRA80A01H501\r\nX"), Err(15));
        assert_eq!(forced_shape("RSSMRA80A01H501"), Err(15));
        assert_eq!(forced_shape("RSSMRA80A01H501UX"), Err(16));
        assert_eq!(forced_shape("RSSMRÀ80A01H501U"), Err(5));
    }
}
