#!/usr/bin/python3
"""Fill SoftHSM2 tokens with the test bed's sample certificates and keys.

    testbed/samples.py DIR            the sample tokens (see TOKENS below)
    testbed/samples.py DIR --bench N  N tokens x 3 certificates, for bench/

Keys and certificates are made here with python3-cryptography under a throw-away test CA,
then loaded with softhsm2-util (key pair) and pkcs11-tool (certificate), as a user would.
SOFTHSM2_CONF must point at the test bed's own configuration (testbed/softhsm-up.sh).
User PIN 123456, SO PIN 12345678. Test material only: never use these keys for anything.
"""
import argparse
import datetime as dt
import os
import subprocess
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
USER_PIN = "123456"
SO_PIN = "12345678"
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
DAY = dt.timedelta(days=1)

ODD = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
               [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21,
                2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]))


def cf(first15: str) -> str:
    """Append the codice fiscale check letter."""
    total = 0
    for i, c in enumerate(first15):
        if i % 2 == 0:
            total += ODD[c]
        else:
            total += int(c) if c.isdigit() else ord(c) - ord("A")
    return first15 + chr(ord("A") + total % 26)


def key(kind: str):
    if kind == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(65537, int(kind.removeprefix("rsa")))


def name(**attrs) -> x509.Name:
    oids = {"c": NameOID.COUNTRY_NAME, "o": NameOID.ORGANIZATION_NAME,
            "sn": NameOID.SURNAME, "gn": NameOID.GIVEN_NAME,
            "serial": NameOID.SERIAL_NUMBER, "cn": NameOID.COMMON_NAME,
            "dnq": NameOID.DN_QUALIFIER}
    return x509.Name([x509.NameAttribute(oids[k], v) for k, v in attrs.items()])


class Ca:
    def __init__(self):
        self.key = key("rsa2048")
        self.name = name(c="IT", o="Tessera Test Bed", cn="Tessera Test CA")
        self.cert = (x509.CertificateBuilder()
                     .subject_name(self.name).issuer_name(self.name)
                     .public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number())
                     .not_valid_before(NOW - 400 * DAY).not_valid_after(NOW + 3650 * DAY)
                     .add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
                     .sign(self.key, hashes.SHA256()))

    def issue(self, subject, public_key, role, not_before, not_after):
        ku = dict(digital_signature=False, content_commitment=False, key_encipherment=False,
                  data_encipherment=False, key_agreement=False, key_cert_sign=False,
                  crl_sign=False, encipher_only=False, decipher_only=False)
        builder = (x509.CertificateBuilder()
                   .subject_name(subject).issuer_name(self.name).public_key(public_key)
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(not_before).not_valid_after(not_after)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), True))
        if role == "auth":
            ku.update(digital_signature=True, key_encipherment=isinstance(public_key, rsa.RSAPublicKey))
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)
        elif role == "sign":
            ku.update(content_commitment=True)
        elif role == "enc":
            if isinstance(public_key, ec.EllipticCurvePublicKey):
                ku.update(key_agreement=True)
            else:
                ku.update(key_encipherment=True, data_encipherment=True)
        builder = builder.add_extension(x509.KeyUsage(**ku), True)
        return builder.sign(self.key, hashes.SHA256())


def run(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def init_token(label: str):
    run("softhsm2-util", "--init-token", "--free", "--label", label,
        "--so-pin", SO_PIN, "--pin", USER_PIN)


def put(out: str, token: str, ident: str, label: str, cert, private_key):
    base = os.path.join(out, f"{token}-{ident}".replace(" ", "_"))
    with open(base + ".crt.der", "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.DER))
    if private_key is not None:
        with open(base + ".key.pem", "wb") as f:
            f.write(private_key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
        run("softhsm2-util", "--import", base + ".key.pem", "--token", token,
            "--label", label, "--id", ident, "--pin", USER_PIN)
    run("pkcs11-tool", "--module", MODULE, "--token-label", token, "--login",
        "--pin", USER_PIN, "--write-object", base + ".crt.der", "--type", "cert",
        "--id", ident, "--label", label)


def holder(surname, given, cf_code, **extra):
    return name(c="IT", o="Tessera Test Bed", sn=surname, gn=given,
                serial=f"TINIT-{cf_code}", cn=f"{surname} {given}", **extra)


def samples(out: str, ca: Ca):
    rossi = cf("RSSMRA80A01H501")
    bianchi = cf("BNCLCU75C15F205")
    fabbri = cf("FBBNCC85M10D612")
    tokens = {
        # A CNS-style card: authentication certificate (CN = CF/card-number.hash) and
        # qualified signature certificate, two key pairs.
        "Mario Rossi CNS": [
            ("01", "CNS0", "rsa2048", "auth", name(c="IT", o="Tessera Test Bed", sn="ROSSI",
             gn="MARIO", cn=f"{rossi}/7420000000012345.ZxqYbLFXL0i1VwpE2Vr3t4LhX7o=",
             dnq="7420000000012345"), NOW - 30 * DAY, NOW + 335 * DAY, True),
            ("02", "Firma", "rsa2048", "sign", holder("ROSSI", "MARIO", rossi),
             NOW - 30 * DAY, NOW + 335 * DAY, True),
        ],
        # Renewal cases: expiring in 30 days, expired, and a certificate with no key.
        "Luca Bianchi Firma": [
            ("11", "Firma in scadenza", "rsa2048", "sign", holder("BIANCHI", "LUCA", bianchi),
             NOW - 335 * DAY, NOW + 30 * DAY, True),
            ("12", "Firma scaduta", "rsa2048", "sign", holder("BIANCHI", "LUCA", bianchi),
             NOW - 400 * DAY, NOW - 10 * DAY, True),
            ("13", "Certificato senza chiave", "rsa2048", "auth",
             holder("VERDI", "ANNA", cf("VRDNNA90E50L219")), NOW - DAY, NOW + 364 * DAY, False),
        ],
        # An obsolete key size and a subject with accented characters (P-256, encryption).
        "Varie": [
            ("21", "RSA 1024", "rsa1024", "sign", holder("NERI", "PAOLO", cf("NREPLA70A01G273")),
             NOW - DAY, NOW + 364 * DAY, True),
            ("22", "Cifratura", "p256", "enc", name(c="IT", o="Società Cooperativa Àncora",
             sn="FABBRÌ", gn="NICCOLÒ", serial=f"TINIT-{fabbri}", cn="FABBRÌ NICCOLÒ"),
             NOW - DAY, NOW + 364 * DAY, True),
        ],
    }
    for token, objects in tokens.items():
        init_token(token)
        for ident, label, kind, role, subject, nb, na, with_key in objects:
            k = key(kind)
            put(out, token, ident, label, ca.issue(subject, k.public_key(), role, nb, na),
                k if with_key else None)


def bench(out: str, ca: Ca, n: int):
    for t in range(n):
        token = f"Bench {t}"
        init_token(token)
        for i, (role, days) in enumerate([("auth", 300), ("sign", 300), ("sign", 40)]):
            k = key("p256")
            subject = holder("BENCH", f"T{t}C{i}", cf(f"BNCTCX80A01H50{i}"))
            put(out, token, f"{t}{i}", f"Bench {t}.{i}",
                ca.issue(subject, k.public_key(), role, NOW - DAY, NOW + days * DAY), k)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dir")
    parser.add_argument("--bench", type=int)
    args = parser.parse_args()
    out = os.path.join(args.dir, "samples")
    os.makedirs(out, exist_ok=True)
    ca = Ca()
    with open(os.path.join(out, "ca.crt.pem"), "wb") as f:
        f.write(ca.cert.public_bytes(serialization.Encoding.PEM))
    if args.bench:
        bench(out, ca, args.bench)
    else:
        samples(out, ca)
    return 0


if __name__ == "__main__":
    sys.exit(main())
