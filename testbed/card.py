#!/usr/bin/python3
"""A virtual smart card for the test bed: vsmartcard's ISO 7816 card with a chosen ATR,
connected to a vpcd reader on 127.0.0.1.

Inserting a card = starting this process; pulling it out = ending it (SIGTERM).

Fixes applied to Debian's packaging (see ../shared/TESTBED.md): the module lives under
/usr/lib/python3/site-packages/virtualsmartcard and imports `Crypto`, which Debian ships as
`Cryptodome`; a shim directory maps the one to the other. TCP_NODELAY and TCP_QUICKACK are
set on the socket so that an APDU costs well under a millisecond instead of ~50 ms.
"""
import argparse
import os
import signal
import socket
import sys
import tempfile

SITE = "/usr/lib/python3/site-packages/virtualsmartcard"
CRYPTODOME = "/usr/lib/python3/dist-packages/Cryptodome"


def crypto_shim() -> str:
    shim = os.path.join(tempfile.gettempdir(), "tessera-vicc-shim")
    os.makedirs(shim, exist_ok=True)
    link = os.path.join(shim, "Crypto")
    if not os.path.exists(link):
        try:
            os.symlink(CRYPTODOME, link)
        except FileExistsError:
            pass
    return shim


class QuickAckSocket:
    """Wraps vicc's socket: re-arms TCP_QUICKACK before every read (Linux clears it)."""

    def __init__(self, sock: socket.socket):
        self._sock = sock
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def recv(self, *args):
        try:
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        except OSError:
            pass
        return self._sock.recv(*args)

    def __getattr__(self, name):
        return getattr(self._sock, name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True, help="vpcd reader port")
    parser.add_argument("--atr", help="ATR as hex, spaces or colons allowed")
    parser.add_argument("--type", default="iso7816", help="vsmartcard card type")
    args = parser.parse_args()

    sys.path[:0] = [crypto_shim(), SITE]
    import logging
    from virtualsmartcard.VirtualSmartcard import VirtualICC

    vicc = VirtualICC(None, args.type, "127.0.0.1", args.port, logginglevel=logging.CRITICAL)
    vicc.sock = QuickAckSocket(vicc.sock)
    if args.atr:
        vicc.os.atr = bytes.fromhex(args.atr.replace(":", " "))
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    try:
        vicc.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
