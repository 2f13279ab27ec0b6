//! The OpenPGP card application spoken to directly over PC/SC, for what its PKCS#11
//! middleware cannot do (OpenSC's openpgp driver cannot reset the user PIN with the admin
//! PIN). Commands from the OpenPGP card specification 3.4: SELECT, GET DATA (PW status),
//! VERIFY, RESET RETRY COUNTER. APDUs are traced without their data: they carry PINs.

use crate::apdu::{CardLink, apdu};
use crate::error::Error;
use crate::pin::Pin;
use crate::pin::Who;

const AID: [u8; 6] = [0xD2, 0x76, 0x00, 0x01, 0x24, 0x01];

pub struct OpenPgpCard {
    link: CardLink,
}

impl OpenPgpCard {
    /// Connect (shared, so the middleware keeps working) and select the application.
    pub fn connect(reader: &str) -> Result<OpenPgpCard, Error> {
        Ok(OpenPgpCard { link: CardLink::select(reader, &AID)? })
    }

    /// GET DATA of one data object, in a transaction of its own.
    fn get_data(&self, tag: u8, what: &str) -> Result<Vec<u8>, Error> {
        self.link.transaction(|x| x.expect_ok(x.transmit(&[0x00, 0xCA, 0x00, tag, 0x00], what)?))
    }

    /// Tries left for the user PIN (PW1), the resetting code and the admin PIN (PW3).
    pub fn retry_counters(&self) -> Result<[u8; 3], Error> {
        let status = self.get_data(0xC4, "GET DATA PW status")?;
        match status.get(4..7) {
            Some(c) => Ok([c[0], c[1], c[2]]),
            None => Err(Error::Pcsc { reason: "PW status bytes too short".into() }),
        }
    }

    /// The cardholder's name (DO 5B, inside the cardholder related data 65): empty on a
    /// blank card.
    pub fn cardholder_name(&self) -> Result<Vec<u8>, Error> {
        let data = self.get_data(0x65, "GET DATA cardholder")?;
        let inner = crate::apdu::find_tlv(&data, &[0x65]).unwrap_or(data);
        Ok(crate::apdu::find_tlv(&inner, &[0x5B]).unwrap_or_default())
    }

    /// Personalise a blank card: user PIN and admin PIN from their factory values to the
    /// given ones (CHANGE REFERENCE DATA), then the cardholder's name (PUT DATA 5B, after
    /// the new admin PIN), which marks the card as no longer blank.
    pub fn personalise(&self, factory: (&Pin, &Pin), pin: &Pin, admin: &Pin, name: &str) -> Result<(), Error> {
        self.link.transaction(|x| {
            for (p2, old, new, what) in [
                (0x81, factory.0, pin, "CHANGE REFERENCE DATA PW1"),
                (0x83, factory.1, admin, "CHANGE REFERENCE DATA PW3"),
            ] {
                let mut data = zeroize::Zeroizing::new(old.expose().as_bytes().to_vec());
                data.extend_from_slice(new.expose().as_bytes());
                let who = if p2 == 0x81 { Who::User } else { Who::So };
                x.send(&apdu(0x24, 0x00, p2, &data), what)?.1.pin_check(who, x)?;
            }
            x.send(&apdu(0x20, 0x00, 0x83, admin.expose().as_bytes()), "VERIFY PW3")?.1.pin_check(Who::So, x)?;
            x.expect_ok(x.transmit(&apdu(0xDA, 0x00, 0x5B, name.as_bytes()), "PUT DATA cardholder name")?).map(|_| ())
        })
    }

    /// Verify the admin PIN, then set a new user PIN and reset its retry counter.
    pub fn reset_user_pin(&self, admin: &Pin, new: &Pin) -> Result<(), Error> {
        let verify = apdu(0x20, 0x00, 0x83, admin.expose().as_bytes());
        let reset = apdu(0x2C, 0x02, 0x81, new.expose().as_bytes());
        self.link.transaction(|x| {
            x.send(&verify, "VERIFY PW3")?.1.pin_check(Who::So, x)?;
            x.send(&reset, "RESET RETRY COUNTER")?.1.pin_check(Who::User, x)
        })
    }
}
