//! Contact data as shown to whoever asks by a reference or a serial: a mobile number and
//! an e-mail address with most of them hidden.

/// A mobile number masked but for its country code and last two digits.
pub fn mobile(mobile: &str) -> String {
    let keep = mobile.len().saturating_sub(2);
    mobile.chars().enumerate().map(|(i, c)| if i < keep && c.is_ascii_digit() && i > 2 { '*' } else { c }).collect()
}

/// An e-mail address with its local part masked but for the first character.
pub fn email(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn contacts_are_masked_but_for_what_tells_them_apart() {
        assert_eq!(super::mobile("+393331234567"), "+39********67");
        assert_eq!(super::email("mario.rossi@example.org"), "m***@example.org");
        assert_eq!(super::email("nobody"), "***");
    }
}
