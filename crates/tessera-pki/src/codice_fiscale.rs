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

/// A holder's data a tax code is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonData<'a> {
    pub surname: &'a str,
    /// All the given names.
    pub given_names: &'a str,
    pub birth_date: time::Date,
    /// 'M' or 'F'.
    pub sex: char,
    /// The birth place's Belfiore code (`H501`), or its name.
    pub birth_place: &'a str,
}

/// Which part of a tax code does not match the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    Surname,
    GivenNames,
    BirthDate,
    Sex,
    BirthPlace,
}

impl Part {
    pub fn name(self) -> &'static str {
        match self {
            Part::Surname => "surname",
            Part::GivenNames => "given-names",
            Part::BirthDate => "birth-date",
            Part::Sex => "sex",
            Part::BirthPlace => "birth-place",
        }
    }
}

/// Letters as a tax code takes them: accents dropped, upper case, letters only.
fn letters(text: &str) -> Vec<u8> {
    use unicode_normalization::UnicodeNormalization;
    text.nfd().filter(|c| c.is_ascii_alphabetic()).map(|c| c.to_ascii_uppercase() as u8).collect()
}

fn is_vowel(b: &u8) -> bool {
    b"AEIOU".contains(b)
}

/// Three letters from a surname: its consonants, then its vowels, then X.
fn surname_part(surname: &str) -> String {
    let l = letters(surname);
    let (consonants, vowels): (Vec<u8>, Vec<u8>) = l.iter().partition(|b| !is_vowel(b));
    consonants.iter().chain(&vowels).chain(b"XXX").take(3).map(|b| *b as char).collect()
}

/// Three letters from the given names: the 1st, 3rd and 4th consonants when there are
/// four or more, else as for a surname.
fn names_part(names: &str) -> String {
    let l = letters(names);
    let consonants: Vec<u8> = l.iter().copied().filter(|b| !is_vowel(b)).collect();
    if consonants.len() >= 4 {
        return [consonants[0], consonants[2], consonants[3]].iter().map(|b| *b as char).collect();
    }
    surname_part(names)
}

/// The tax code the data make (without omocodia), the check letter included; None when
/// the birth place is neither a known code nor a known name.
pub fn from_data(d: &PersonData<'_>) -> Option<String> {
    let place = place_code(d.birth_place)?;
    let day = d.birth_date.day() as u32 + if d.sex == 'F' { 40 } else { 0 };
    let mut code = format!(
        "{}{}{:02}{}{:02}{}",
        surname_part(d.surname),
        names_part(d.given_names),
        d.birth_date.year().rem_euclid(100),
        MONTHS[d.birth_date.month() as usize - 1] as char,
        day,
        place
    );
    let letter = check_letter(code.as_bytes());
    code.push(letter);
    Some(code)
}

/// A place as its Belfiore code: given as a code, or as a name.
fn place_code(place: &str) -> Option<String> {
    let trimmed = place.trim().to_ascii_uppercase();
    if crate::places::by_code(&trimmed).is_some() {
        return Some(trimmed);
    }
    crate::places::by_name(place).map(|p| p.code)
}

/// The parts of `code` (already of the tax code's form) that do not match the data;
/// omocodia letters count as the digits they replace, and a birth place matches by any of
/// its names. Empty: the code is the holder's.
pub fn mismatches(code: &str, d: &PersonData<'_>) -> Vec<Part> {
    let b = code.as_bytes();
    if b.len() != 16 {
        return vec![Part::Surname, Part::GivenNames, Part::BirthDate, Part::Sex, Part::BirthPlace];
    }
    let mut out = Vec::new();
    if code[0..3] != surname_part(d.surname) {
        out.push(Part::Surname);
    }
    if code[3..6] != names_part(d.given_names) {
        out.push(Part::GivenNames);
    }
    let year = digit(b[6]) * 10 + digit(b[7]);
    let month = MONTHS.iter().position(|&m| m == b[8]).map(|m| m + 1);
    let day = digit(b[9]) * 10 + digit(b[10]);
    let (real_day, female) = if day > 40 { (day - 40, true) } else { (day, false) };
    if year != d.birth_date.year().rem_euclid(100) as u32
        || month != Some(d.birth_date.month() as usize)
        || real_day != d.birth_date.day() as u32
    {
        out.push(Part::BirthDate);
    }
    if female != (d.sex == 'F') {
        out.push(Part::Sex);
    }
    let place: String = std::iter::once(b[11] as char)
        .chain(b[12..15].iter().map(|&c| char::from_digit(digit(c), 10).unwrap_or('?')))
        .collect();
    let named =
        place_code(d.birth_place).as_deref() == Some(place.as_str()) || crate::places::is_named(&place, d.birth_place);
    if !named {
        out.push(Part::BirthPlace);
    }
    out
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
    fn a_tax_code_is_checked_against_the_holders_data() {
        use super::{Part, PersonData, from_data, mismatches};
        let date = |y, m, d| time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap();
        let mario = PersonData {
            surname: "Rossi",
            given_names: "Mario",
            birth_date: date(1980, 1, 1),
            sex: 'M',
            birth_place: "Roma",
        };
        assert_eq!(from_data(&mario).as_deref(), Some("RSSMRA80A01H501U"));
        assert!(mismatches("RSSMRA80A01H501U", &mario).is_empty());
        // Omocodia: the digits replaced by letters still match.
        assert!(mismatches("RSSMRA80A01H5LMX", &mario).is_empty());
        let anna = PersonData {
            surname: "Verdi",
            given_names: "Anna",
            birth_date: date(1990, 5, 10),
            sex: 'F',
            birth_place: "L219",
        };
        assert_eq!(from_data(&anna).as_deref(), Some("VRDNNA90E50L219L"));
        assert_eq!(mismatches("VRDNNA90E10L219X", &anna), [Part::Sex]);
        assert_eq!(
            mismatches("RSSMRA80A01H501U", &PersonData { birth_place: "Milano", ..mario.clone() }),
            [Part::BirthPlace]
        );
        assert_eq!(
            mismatches("RSSMRA80A01H501U", &PersonData { surname: "Bianchi", birth_date: date(1981, 1, 1), ..mario }),
            [Part::Surname, Part::BirthDate]
        );
        // Four or more consonants in the names: the 1st, 3rd and 4th; accents dropped.
        let niccolo = PersonData {
            surname: "Fabbrì",
            given_names: "Niccolò Giancarlo",
            birth_date: date(1985, 8, 10),
            sex: 'M',
            birth_place: "D612",
        };
        assert_eq!(&from_data(&niccolo).unwrap()[..6], "FBBNCL");
        assert_eq!(&from_data(&PersonData { given_names: "Ugo", ..niccolo }).unwrap()[3..6], "GUO");
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
