//! The vpcd wire protocol (vsmartcard): 2-byte big-endian length, then either a one-byte
//! control code (power off/on, reset, get ATR) or an APDU. TCP_NODELAY and TCP_QUICKACK
//! (re-armed before each read: Linux clears it) keep an APDU well under a millisecond
//! instead of ~50 ms of Nagle + delayed ACK.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;

pub trait Card {
    fn atr(&self) -> &[u8];
    fn reset(&mut self);
    fn execute(&mut self, apdu: &[u8]) -> Vec<u8>;
}

fn quickack(stream: &TcpStream) {
    let one: libc::c_int = 1;
    // SAFETY: a valid socket descriptor and a c_int option value of the right size.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            &one as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// Serve `card` on the reader at 127.0.0.1:`port` until vpcd closes the connection.
pub fn serve(port: u16, card: &mut dyn Card) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_nodelay(true)?;
    loop {
        quickack(&stream);
        let mut len = [0u8; 2];
        if stream.read_exact(&mut len).is_err() {
            return Ok(());
        }
        let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
        stream.read_exact(&mut msg)?;
        let reply = match msg.as_slice() {
            [0] | [1] => None, // power off / on
            [2] => {
                card.reset();
                None
            }
            [4] => Some(card.atr().to_vec()),
            apdu => Some(card.execute(apdu)),
        };
        if let Some(reply) = reply {
            let mut out = (reply.len() as u16).to_be_bytes().to_vec();
            out.extend_from_slice(&reply);
            stream.write_all(&out)?;
        }
    }
}
