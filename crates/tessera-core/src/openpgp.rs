//! The OpenPGP card application spoken to directly over PC/SC, for what its PKCS#11
//! middleware cannot do (OpenSC's openpgp driver cannot reset the user PIN with the admin
//! PIN). Commands from the OpenPGP card specification 3.4: SELECT, GET DATA (PW status),
//! VERIFY, RESET RETRY COUNTER. APDUs are traced without their data: they carry PINs.

use pcsc::{Protocols, Scope, ShareMode};

use crate::error::Error;
use crate::pin::Pin;

const AID: [u8; 6] = [0xD2, 0x76, 0x00, 0x01, 0x24, 0x01];

pub struct OpenPgpCard {
    card: pcsc::Card,
    reader: String,
}

impl OpenPgpCard {
    /// Connect (shared, so the middleware keeps working) and select the application.
    pub fn connect(reader: &str) -> Result<OpenPgpCard, Error> {
        let ctx = pcsc::Context::establish(Scope::User).map_err(|e| Error::from_pcsc(e, None))?;
        let name = std::ffi::CString::new(reader).map_err(|e| Error::Pcsc { reason: e.to_string() })?;
        let card = ctx
            .connect(&name, ShareMode::Shared, Protocols::ANY)
            .map_err(|e| Error::from_pcsc(e, Some(reader)))?;
        let c = OpenPgpCard { card, reader: reader.to_owned() };
        let mut select = vec![0x00, 0xA4, 0x04, 0x00, AID.len() as u8];
        select.extend_from_slice(&AID);
        select.push(0x00);
        c.expect_ok(c.transmit(&select, "SELECT")?)?;
        Ok(c)
    }

    fn transmit(&self, apdu: &[u8], what: &str) -> Result<(Vec<u8>, u16), Error> {
        tracing::trace!(command = what, header = ?&apdu[..4.min(apdu.len())], "APDU");
        let mut buf = [0u8; 512];
        let rsp = self.card.transmit(apdu, &mut buf).map_err(|e| Error::from_pcsc(e, Some(&self.reader)))?;
        if rsp.len() < 2 {
            return Err(Error::Pcsc { reason: format!("{what}: short response") });
        }
        let sw = u16::from_be_bytes([rsp[rsp.len() - 2], rsp[rsp.len() - 1]]);
        tracing::trace!(command = what, sw = format_args!("{sw:04X}"), "APDU response");
        Ok((rsp[..rsp.len() - 2].to_vec(), sw))
    }

    fn expect_ok(&self, (data, sw): (Vec<u8>, u16)) -> Result<Vec<u8>, Error> {
        if sw == 0x9000 {
            Ok(data)
        } else {
            Err(Error::Pkcs11 { function: "APDU".into(), rv: format!("SW {sw:04X}"), token: self.reader.clone() })
        }
    }

    /// Tries left for the user PIN (PW1), the resetting code and the admin PIN (PW3).
    pub fn retry_counters(&self) -> Result<[u8; 3], Error> {
        let status = self.expect_ok(self.transmit(&[0x00, 0xCA, 0x00, 0xC4, 0x00], "GET DATA PW status")?)?;
        match status.get(4..7) {
            Some(c) => Ok([c[0], c[1], c[2]]),
            None => Err(Error::Pcsc { reason: "PW status bytes too short".into() }),
        }
    }

    /// Verify the admin PIN, then set a new user PIN and reset its retry counter.
    pub fn reset_user_pin(&self, admin: &Pin, new: &Pin) -> Result<(), Error> {
        let verify = apdu(0x20, 0x00, 0x83, admin.expose().as_bytes());
        match self.transmit(&verify, "VERIFY PW3")? {
            (_, 0x9000) => {}
            (_, 0x6983) => return Err(Error::PinLocked),
            (_, sw) if sw & 0xFFF0 == 0x63C0 || sw == 0x6982 => return Err(Error::WrongPuk),
            (d, sw) => {
                self.expect_ok((d, sw))?;
            }
        }
        let reset = apdu(0x2C, 0x02, 0x81, new.expose().as_bytes());
        match self.transmit(&reset, "RESET RETRY COUNTER")? {
            (_, 0x9000) => Ok(()),
            (_, 0x6A80) | (_, 0x6700) => Err(Error::PinRejected),
            other => self.expect_ok(other).map(|_| ()),
        }
    }
}

fn apdu(ins: u8, p1: u8, p2: u8, data: &[u8]) -> zeroize::Zeroizing<Vec<u8>> {
    let mut v = zeroize::Zeroizing::new(vec![0x00, ins, p1, p2, data.len() as u8]);
    v.extend_from_slice(data);
    v
}
