//! A PC/SC link to one card application, for the card commands a middleware lacks.
//! APDUs are traced by name and header only: their data can carry PINs and keys.

use pcsc::{Protocols, Scope, ShareMode};
use zeroize::Zeroizing;

use crate::error::Error;

/// A status word, decoded here and nowhere else (ISO 7816-4 and the OpenPGP and PIV
/// specifications' uses of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sw {
    /// 9000.
    Ok,
    /// 63Cx: the PIN, PUK or key was wrong; x tries left (63 00: wrong, count not told).
    Wrong {
        tries_left: Option<u8>,
    },
    /// 6983: blocked (no tries left).
    Blocked,
    /// 6982: security status not satisfied (OpenPGP cards answer a wrong PW3 so).
    NotAllowed,
    /// 6700, 6A80: wrong length or data (a PIN the card does not accept).
    BadData,
    /// 6A82: no such file or object.
    NotFound,
    Other(u16),
}

impl Sw {
    pub fn decode(sw: u16) -> Sw {
        match sw {
            0x9000 => Sw::Ok,
            0x6300 => Sw::Wrong { tries_left: None },
            sw if sw & 0xFFF0 == 0x63C0 => Sw::Wrong { tries_left: Some((sw & 0x0F) as u8) },
            0x6983 => Sw::Blocked,
            0x6982 => Sw::NotAllowed,
            0x6700 | 0x6A80 => Sw::BadData,
            0x6A82 => Sw::NotFound,
            other => Sw::Other(other),
        }
    }

    /// The outcome of a PIN (`Who::User`) or PUK / admin PIN (`Who::So`) check, with the
    /// PIN's state from the tries left.
    pub fn pin_check(self, who: crate::pins::Who, link: &Exchange<'_>) -> Result<(), Error> {
        use crate::pins::PinState;
        let wrong = |tries: Option<u8>| match who {
            crate::pins::Who::So => Error::WrongPuk,
            crate::pins::Who::User => Error::WrongPin {
                state: match tries {
                    Some(0) => PinState::Locked,
                    Some(1) => PinState::FinalTry,
                    Some(_) => PinState::CountLow,
                    None => PinState::Ok,
                },
            },
        };
        match self {
            Sw::Ok => Ok(()),
            Sw::Blocked => Err(Error::PinLocked),
            Sw::Wrong { tries_left } => Err(wrong(tries_left)),
            Sw::NotAllowed => Err(wrong(None)),
            Sw::BadData => Err(Error::PinRejected),
            Sw::NotFound | Sw::Other(_) => Err(link.failed(self)),
        }
    }

    fn word(self) -> u16 {
        match self {
            Sw::Ok => 0x9000,
            Sw::Wrong { tries_left: None } => 0x6300,
            Sw::Wrong { tries_left: Some(n) } => 0x63C0 | n as u16,
            Sw::Blocked => 0x6983,
            Sw::NotAllowed => 0x6982,
            Sw::BadData => 0x6A80,
            Sw::NotFound => 0x6A82,
            Sw::Other(w) => w,
        }
    }
}

/// A connection to one card application. Every command runs in an [`Exchange`]: one PC/SC
/// transaction that starts by selecting the application, so no other program's commands
/// (the middleware's, in shared mode) come between a VERIFY or a management-key
/// authentication and the commands it authorises, and the application is the one selected
/// even when another program selected another since.
pub struct CardLink {
    card: std::cell::RefCell<pcsc::Card>,
    reader: String,
    aid: Vec<u8>,
}

/// The commands of one PC/SC transaction on a [`CardLink`].
pub struct Exchange<'l> {
    card: &'l pcsc::Card,
    reader: &'l str,
}

impl CardLink {
    /// Connect in shared mode (the middleware keeps working) and SELECT the application.
    pub fn select(reader: &str, aid: &[u8]) -> Result<CardLink, Error> {
        let ctx = pcsc::Context::establish(Scope::User).map_err(|e| Error::from_pcsc(e, None))?;
        let name = std::ffi::CString::new(reader).map_err(|e| Error::Pcsc { reason: e.to_string() })?;
        let card =
            ctx.connect(&name, ShareMode::Shared, Protocols::ANY).map_err(|e| Error::from_pcsc(e, Some(reader)))?;
        let link = CardLink { card: std::cell::RefCell::new(card), reader: reader.to_owned(), aid: aid.to_vec() };
        link.transaction(|_| Ok(()))?;
        Ok(link)
    }

    /// Run a multi-command sequence in one PC/SC transaction, the application selected
    /// first. When another program (the middleware re-initialising) reset the card since
    /// the last sequence, reconnect first: card state such as a verified PIN is gone then,
    /// and the sequence starts from its own authentication anyway.
    pub fn transaction<T>(&self, f: impl FnOnce(&Exchange<'_>) -> Result<T, Error>) -> Result<T, Error> {
        let mut card = self.card.borrow_mut();
        let pcsc_error = |e| Error::from_pcsc(e, Some(&self.reader));
        let mut reconnected = false;
        loop {
            // Begin, then SELECT: pcsc-lite tells a reset at either.
            let outcome = match card.transaction() {
                Ok(tx) => {
                    let x = Exchange { card: &tx, reader: &self.reader };
                    match x.select_application(&self.aid) {
                        Err(Error::CardReset) => Err(Error::CardReset),
                        Err(e) => return Err(e),
                        Ok(()) => {
                            let out = f(&x);
                            if let Err((_, e)) = tx.end(pcsc::Disposition::LeaveCard) {
                                tracing::debug!(reader = %self.reader, error = %e, "ending the transaction");
                            }
                            return out;
                        }
                    }
                }
                Err(pcsc::Error::ResetCard) => Err(Error::CardReset),
                Err(e) => return Err(pcsc_error(e)),
            };
            match outcome {
                Err(Error::CardReset) if !reconnected => {
                    tracing::debug!(reader = %self.reader, "card was reset by another program: reconnecting");
                    card.reconnect(ShareMode::Shared, Protocols::ANY, pcsc::Disposition::LeaveCard)
                        .map_err(pcsc_error)?;
                    reconnected = true;
                }
                other => return other,
            }
        }
    }

    /// One command in a transaction of its own; the data and the status word.
    pub fn transmit(&self, apdu: &[u8], what: &str) -> Result<(Vec<u8>, u16), Error> {
        self.transaction(|x| x.transmit(apdu, what))
    }

    /// One command in a transaction of its own; its data and decoded status word.
    pub fn send(&self, apdu: &[u8], what: &str) -> Result<(Vec<u8>, Sw), Error> {
        self.transaction(|x| x.send(apdu, what))
    }

    /// The error for a status word the command did not expect.
    pub fn failed(&self, sw: Sw) -> Error {
        Error::CardCommand { reader: self.reader.clone(), sw: format!("{:04X}", sw.word()) }
    }
}

impl Exchange<'_> {
    fn select_application(&self, aid: &[u8]) -> Result<(), Error> {
        let mut select = vec![0x00, 0xA4, 0x04, 0x00, aid.len() as u8];
        select.extend_from_slice(aid);
        select.push(0x00);
        self.expect_ok(self.transmit(&select, "SELECT")?).map(|_| ())
    }

    /// Send one APDU; returns the data and the status word. Follows 61xx with GET RESPONSE.
    pub fn transmit(&self, apdu: &[u8], what: &str) -> Result<(Vec<u8>, u16), Error> {
        tracing::trace!(command = what, header = ?&apdu[..4.min(apdu.len())], "APDU");
        let mut data = Vec::new();
        let mut next = apdu.to_vec();
        loop {
            let mut buf = vec![0u8; 65538];
            let rsp = match self.card.transmit(&next, &mut buf) {
                Ok(rsp) => rsp.to_vec(),
                Err(pcsc::Error::ResetCard) => return Err(Error::CardReset),
                Err(e) => return Err(Error::from_pcsc(e, Some(self.reader))),
            };
            if rsp.len() < 2 {
                return Err(Error::Pcsc { reason: format!("{what}: short response") });
            }
            let (body, sw) = rsp.split_at(rsp.len() - 2);
            data.extend_from_slice(body);
            if sw[0] == 0x61 {
                next = vec![0x00, 0xC0, 0x00, 0x00, sw[1]];
                continue;
            }
            let sw = u16::from_be_bytes([sw[0], sw[1]]);
            tracing::trace!(command = what, sw = format_args!("{sw:04X}"), "APDU response");
            return Ok((data, sw));
        }
    }

    /// Send one APDU; its data and decoded status word.
    pub fn send(&self, apdu: &[u8], what: &str) -> Result<(Vec<u8>, Sw), Error> {
        self.transmit(apdu, what).map(|(data, sw)| (data, Sw::decode(sw)))
    }

    /// The error for a status word the command did not expect.
    pub fn failed(&self, sw: Sw) -> Error {
        Error::CardCommand { reader: self.reader.to_owned(), sw: format!("{:04X}", sw.word()) }
    }

    pub fn expect_ok(&self, (data, sw): (Vec<u8>, u16)) -> Result<Vec<u8>, Error> {
        if sw == 0x9000 { Ok(data) } else { Err(self.failed(Sw::decode(sw))) }
    }
}

/// A short or extended command APDU (CLA 00), without Le.
pub fn apdu(ins: u8, p1: u8, p2: u8, data: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut v = Zeroizing::new(vec![0x00, ins, p1, p2]);
    if data.len() <= 255 {
        v.push(data.len() as u8);
    } else {
        v.push(0x00);
        v.extend_from_slice(&(data.len() as u16).to_be_bytes());
    }
    v.extend_from_slice(data);
    v
}

/// BER-TLV length octets.
pub fn ber_len(len: usize, out: &mut Vec<u8>) {
    match len {
        0..=0x7F => out.push(len as u8),
        0x80..=0xFF => out.extend_from_slice(&[0x81, len as u8]),
        _ => out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]),
    }
}

/// Find a BER-TLV value by tag (one or two bytes) in `data`, one level deep.
pub fn find_tlv(data: &[u8], tag: &[u8]) -> Option<Vec<u8>> {
    let mut i = 0;
    while i < data.len() {
        let tag_len = if data[i] & 0x1F == 0x1F { 2 } else { 1 };
        let t = data.get(i..i + tag_len)?;
        i += tag_len;
        let (len, n) = match *data.get(i)? {
            l @ 0..=0x7F => (l as usize, 1),
            0x81 => (*data.get(i + 1)? as usize, 2),
            0x82 => (u16::from_be_bytes([*data.get(i + 1)?, *data.get(i + 2)?]) as usize, 3),
            _ => return None,
        };
        i += n;
        let value = data.get(i..i + len)?;
        if t == tag {
            return Some(value.to_vec());
        }
        i += len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_lookup_and_lengths() {
        let data = [0x7F, 0x49, 0x05, 0x86, 0x03, 1, 2, 3];
        let inner = find_tlv(&data, &[0x7F, 0x49]).unwrap();
        assert_eq!(find_tlv(&inner, &[0x86]).unwrap(), [1, 2, 3]);
        let mut v = Vec::new();
        ber_len(300, &mut v);
        assert_eq!(v, [0x82, 0x01, 0x2C]);
        assert_eq!(apdu(0xDB, 0x3F, 0xFF, &[0u8; 300])[4..7], [0x00, 0x01, 0x2C]);
    }
}

#[cfg(test)]
mod sw_tests {
    use super::Sw;

    #[test]
    fn status_words_decode_once_with_the_tries_left() {
        assert_eq!(Sw::decode(0x9000), Sw::Ok);
        assert_eq!(Sw::decode(0x63C2), Sw::Wrong { tries_left: Some(2) });
        assert_eq!(Sw::decode(0x6300), Sw::Wrong { tries_left: None });
        assert_eq!(Sw::decode(0x6983), Sw::Blocked);
        assert_eq!(Sw::decode(0x6982), Sw::NotAllowed);
        assert_eq!(Sw::decode(0x6700), Sw::BadData);
        assert_eq!(Sw::decode(0x6A82), Sw::NotFound);
        assert_eq!(Sw::decode(0x6D00), Sw::Other(0x6D00));
        for w in [0x9000, 0x63C1, 0x6300, 0x6983, 0x6982, 0x6A80, 0x6A82, 0x6D00] {
            assert_eq!(Sw::decode(Sw::decode(w).word()), Sw::decode(w));
        }
    }
}
