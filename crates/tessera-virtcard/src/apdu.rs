//! ISO 7816-4 transport around the card application: command chaining (CLA bit 0x10)
//! and response chaining (61xx, GET RESPONSE) for short APDUs.

use heapless::VecView;
use iso7816::Status;
use iso7816::command::CommandView;

const MAX_RESPONSE: usize = 7609;

/// A card application: one command in, reply data and a status out.
pub trait App {
    fn handle(&mut self, command: CommandView<'_>, reply: &mut VecView<u8>) -> Result<(), Status>;
    fn reset(&mut self);
}

impl<T: opcard::Client> App for opcard::Card<T> {
    fn handle(&mut self, command: CommandView<'_>, reply: &mut VecView<u8>) -> Result<(), Status> {
        opcard::Card::handle(self, command, reply)
    }
    fn reset(&mut self) {
        opcard::Card::reset(self)
    }
}

impl<T: piv_authenticator::Client> App for piv_authenticator::Authenticator<T> {
    fn handle(&mut self, command: CommandView<'_>, reply: &mut VecView<u8>) -> Result<(), Status> {
        self.respond(command, reply)
    }
    fn reset(&mut self) {}
}

pub struct Chained<A: App> {
    card: A,
    atr: Vec<u8>,
    /// Data of chained commands received so far.
    pending: Vec<u8>,
    /// Response bytes not yet fetched with GET RESPONSE.
    remaining: Vec<u8>,
}

impl<A: App> Chained<A> {
    pub fn new(card: A, atr: Vec<u8>) -> Self {
        Chained { card, atr, pending: Vec::new(), remaining: Vec::new() }
    }

    fn run(&mut self, apdu: &[u8]) -> Vec<u8> {
        let Ok(view) = CommandView::try_from(apdu) else { return vec![0x67, 0x00] };
        let mut reply = heapless::Vec::<u8, MAX_RESPONSE>::new();
        let status = match self.card.handle(view, reply.as_mut_view()) {
            Ok(()) => [0x90, 0x00],
            Err(status) => status.into(),
        };
        let mut out = reply.to_vec();
        out.extend_from_slice(&status);
        out
    }

    /// Answer with at most `le` bytes (256 for Le = 0) and 61xx when more remain.
    fn respond(&mut self, mut data: Vec<u8>, le: usize, extended: bool) -> Vec<u8> {
        let sw = data.split_off(data.len() - 2);
        let max = if extended {
            usize::MAX
        } else if le == 0 {
            256
        } else {
            le
        };
        if data.len() <= max || sw != [0x90, 0x00] {
            data.extend_from_slice(&sw);
            return data;
        }
        self.remaining = data.split_off(max);
        let left = self.remaining.len().min(256);
        data.extend_from_slice(&[0x61, if left == 256 { 0 } else { left as u8 }]);
        data
    }
}

impl<A: App> crate::vpcd::Card for Chained<A> {
    fn atr(&self) -> &[u8] {
        &self.atr
    }

    fn reset(&mut self) {
        self.card.reset();
        self.pending.clear();
        self.remaining.clear();
    }

    fn execute(&mut self, apdu: &[u8]) -> Vec<u8> {
        if apdu.len() < 4 {
            return vec![0x67, 0x00];
        }
        let Ok(view) = CommandView::try_from(apdu) else { return vec![0x67, 0x00] };
        let extended = view.extended;
        let le = view.expected();
        // GET RESPONSE: the next part of the last answer.
        if apdu[1] == 0xC0 && !self.remaining.is_empty() {
            let mut rest = std::mem::take(&mut self.remaining);
            rest.extend_from_slice(&[0x90, 0x00]);
            return self.respond(rest, le, extended);
        }
        self.remaining.clear();
        if apdu[0] & 0x10 != 0 {
            self.pending.extend_from_slice(view.data());
            return vec![0x90, 0x00];
        }
        let full = if self.pending.is_empty() {
            apdu.to_vec()
        } else {
            let mut data = std::mem::take(&mut self.pending);
            data.extend_from_slice(view.data());
            // Rebuild one extended APDU with the whole data.
            let mut cmd = vec![apdu[0] & !0x10, apdu[1], apdu[2], apdu[3], 0x00];
            cmd.extend_from_slice(&(data.len() as u16).to_be_bytes());
            cmd.extend_from_slice(&data);
            cmd.extend_from_slice(&[0x00, 0x00]);
            cmd
        };
        let out = self.run(&full);
        self.respond(out, le, extended)
    }
}
