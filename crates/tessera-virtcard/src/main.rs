//! Virtual cards for the test bed: Nitrokey's OpenPGP card (opcard) or PIV
//! (piv-authenticator) application, from crates.io, on trussed's virtual platform, state
//! in files under `--state`, served to the vpcd reader on `--port`. TEST ONLY: the
//! virtual platform seeds its RNG with a constant.
//!
//!   tessera-virtcard [--app openpgp|piv] --port 35963 --state DIR [--atr HEX]
//!
//! Inserting the card = starting this process; pulling it out = ending it.

mod apdu;
mod dispatch;
mod vpcd;

use std::path::PathBuf;

use trussed::virt::{self, StorageConfig, StoreConfig};

/// Historical bytes "Nitrokey 3" (as pcsc-tools' list has it), the app being Nitrokey's.
const OPENPGP_ATR: &[u8] =
    &[0x3B, 0x8C, 0x01, 0x80, 0x5A, 0x4E, 0x69, 0x74, 0x72, 0x6F, 0x6B, 0x65, 0x79, 0x20, 0x33, 0x7D];
/// Historical bytes "TESSERA-PIV" (drivers/piv-card.toml).
const PIV_ATR: &[u8] =
    &[0x3B, 0x8B, 0x80, 0x01, 0x54, 0x45, 0x53, 0x53, 0x45, 0x52, 0x41, 0x2D, 0x50, 0x49, 0x56, 0x2F];

fn main() {
    let mut port = 35963u16;
    let mut state: Option<PathBuf> = None;
    let mut atr = None;
    let mut piv = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()).expect("--port N"),
            "--state" => state = args.next().map(PathBuf::from),
            "--app" => piv = args.next().as_deref() == Some("piv"),
            "--atr" => {
                let hex: String = args.next().expect("--atr HEX").chars().filter(|c| c.is_ascii_hexdigit()).collect();
                atr =
                    Some((0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect());
            }
            other => panic!("unknown argument {other}"),
        }
    }
    let store = match state {
        Some(dir) => {
            std::fs::create_dir_all(&dir).expect("state directory");
            // Internal (keys, PINs) and external storage persist; volatile stays in RAM.
            let mut config = StoreConfig::ram();
            config.internal = StorageConfig::filesystem(dir.join("internal.littlefs"));
            config.external = StorageConfig::filesystem(dir.join("external.littlefs"));
            config
        }
        None => StoreConfig::ram(),
    };
    let served = virt::with_platform(store, |platform| {
        let name = if piv { "piv" } else { "opcard" };
        platform.run_client_with_backends(name, dispatch::Dispatcher::default(), dispatch::BACKENDS, |client| {
            if piv {
                let app = piv_authenticator::Authenticator::new(client, piv_authenticator::Options::default());
                vpcd::serve(port, &mut apdu::Chained::new(app, atr.unwrap_or_else(|| PIV_ATR.to_vec())))
            } else {
                let app = opcard::Card::new(client, opcard::Options::default());
                vpcd::serve(port, &mut apdu::Chained::new(app, atr.unwrap_or_else(|| OPENPGP_ATR.to_vec())))
            }
        })
    });
    if let Err(e) = served {
        eprintln!("tessera-virtcard: {e}");
        std::process::exit(1);
    }
}
