#!/usr/bin/env python3
"""Benchmark a renewal (bench/README.md) on SoftHSM2, against tessera-ra on loopback: a
signature certificate of 30 days (renewable at once) is activated, then renewed with

    tessera renew --stdin --retire-old      (RSA-2048, CMP kur signed on the card)

compared with
 (a) the sum of what it waits for in the same run: the time inside C_GenerateKeyPair,
     C_Sign, C_CreateObject and C_DestroyObject (tessera's trace log) plus the RA's round
     trips (its debug log);
 (b) the manual pipeline a power user would run for a re-key on the same token and RA,
     one process per step: `pkcs11-tool --keypairgen`, `openssl req -engine pkcs11` (the
     new key's CSR), `openssl cmp -cmd kur -engine pkcs11` (signed by the old key, POP by
     the new), `pkcs11-tool --write-object`, `pkcs11-tool --delete-object` (old cert, old key).

    bench/renewal.py [--runs N] [--tessera PATH] [--ra PATH]
"""
import argparse
import json
import os
import shutil
import statistics
import tempfile

from activation import OPERATOR, waited
from operators import OFFICE, sign_in_answers
import primitives
from primitives import ENGINE, ROOT, SO_PIN, SOFTHSM, USER_PIN, run


def start_ra(ra_bin, d, runs):
    conf = os.path.join(d, "ra.toml")
    codes = []
    with open(conf, "w") as f:
        # The manual pipeline renews with openssl cmp kur alone, so the RA lets kur go without
        # the signed renewal form; tessera renew still signs the form (the RA offers it), so
        # its time includes that step and the peer's does not.
        f.write(f'listen = "127.0.0.1:0"\nvalidity_days = 30\nca_certificate = "{d}/ra-ca.pem"\n'
                'renewal.form = "optional"\n')
        f.write(f'[[operator]]\nname = "bench"\noffice = "{OFFICE}"\ntoken_sha256 = "{OPERATOR[1]}"\n')
        for i in range(runs * 2 + 2):
            ref, code = f"REN-{i:04d}", f"RNEW-{i:04d}-BNCH"
            codes.append((ref, code))
            f.write(f'[[request]]\nreference = "{ref}"\noffice = "{OFFICE}"\nactivation_code = "{code}"\n'
                    'profile = "signature"\narmed = false\nholder = { given_name = "MARIO", surname = "ROSSI", cf = "RSSMRA80A01H501U" }\n')
    p, server = primitives.start_ra(ra_bin, conf)
    return p, server, codes


class Bed:
    def __init__(self, d, env, tessera, server, ra_bin):
        self.d, self.env, self.tessera, self.server = d, env, tessera, server
        self.ra_bin, self.ra_conf = ra_bin, os.path.join(d, "ra.toml")
        self.ra = ["--ra", f"http://{server}", "--ra-ca", f"{d}/ra-ca.pem"]
        self.conf = os.path.join(d, "openssl-engine.cnf")
        with open(self.conf, "w") as f:
            f.write("openssl_conf = init\n[init]\nengines = engines\n[engines]\npkcs11 = pkcs11\n"
                    f"[pkcs11]\nengine_id = pkcs11\ndynamic_path = {ENGINE}\nMODULE_PATH = {SOFTHSM}\ninit = 0\n")

    def activated(self, code):
        """A fresh token with a 30-day signature certificate; the data dir and the key id."""
        shutil.rmtree(os.path.join(self.d, "tokens"), ignore_errors=True)
        os.makedirs(os.path.join(self.d, "tokens"))
        run(["softhsm2-util", "--init-token", "--free", "--label", "Blank", "--so-pin", SO_PIN, "--pin", USER_PIN],
            self.env)
        data = tempfile.mkdtemp(dir=self.d)
        env = dict(self.env, TESSERA_DATA_DIR=data, TESSERA_MODULES=SOFTHSM)
        _, p = run([self.tessera, "activate", "--operator", "--stdin", "--json", "--token", "pkcs11:token=Blank"]
                   + self.ra, env, "\n".join(sign_in_answers(self.ra_bin, self.ra_conf, self.server))
                   + f"\n{code}\ns\n{USER_PIN}\n")
        uri = json.loads(p.stdout)["certificates"][0]["uri"]
        ident = uri.split(";id=")[1].split(";")[0].replace("%", "")
        return data, ident

    def ours(self, data):
        env = dict(self.env, TESSERA_LOG="tessera_core=trace,tessera_flows=debug", TESSERA_DATA_DIR=data,
                   TESSERA_MODULES=SOFTHSM)
        wall, p = run([self.tessera, "renew", "--retire-old", "--stdin", "--json", "--accept-contract", "2026-1",
                       "--token", "pkcs11:token=Blank"]
                      + self.ra, env, f"{USER_PIN}\n")
        assert json.loads(p.stdout)["retired"] is True
        card, ra_time = waited(p.stderr)
        return wall, card + ra_time

    def peer(self, old_id):
        base = ["pkcs11-tool", "--module", SOFTHSM, "--token-label", "Blank", "--login", "--pin", USER_PIN]
        old_pem, new_pem, new_der = (os.path.join(self.d, n) for n in ("old.pem", "new.pem", "new.der"))
        run(base + ["--read-object", "--type", "cert", "--id", old_id, "--output-file", old_pem + ".der"], self.env)
        run(["openssl", "x509", "-inform", "DER", "-in", old_pem + ".der", "-out", old_pem], self.env)
        total, _ = run(base + ["--keypairgen", "--key-type", "rsa:2048", "--id", "77", "--label", "new"], self.env)
        engine_env = dict(self.env, OPENSSL_CONF=self.conf)
        def key(i):
            pct = "".join(f"%{i[k:k + 2]}" for k in range(0, len(i), 2))
            return f"pkcs11:token=Blank;id={pct};type=private;pin-value={USER_PIN}"
        csr = os.path.join(self.d, "new.csr")
        t, _ = run(["openssl", "req", "-new", "-engine", "pkcs11", "-keyform", "engine", "-key", key("77"),
                    "-subj", "/CN=ROSSI MARIO", "-out", csr], engine_env)
        total += t
        t, _ = run(["openssl", "cmp", "-cmd", "kur", "-server", self.server, "-path", "/.well-known/cmp",
                    "-engine", "pkcs11", "-keyform", "ENGINE", "-cert", old_pem, "-key", key(old_id),
                    "-newkey", key("77"), "-certout", new_pem, "-trusted", f"{self.d}/ra-ca.pem"],
                   engine_env)
        total += t
        run(["openssl", "x509", "-in", new_pem, "-outform", "DER", "-out", new_der], self.env)
        t, _ = run(base + ["--write-object", new_der, "--type", "cert", "--id", "77", "--label", "new"], self.env)
        total += t
        for kind in ("cert", "privkey", "pubkey"):
            t, _ = run(base + ["--delete-object", "--type", kind, "--id", old_id], self.env)
            total += t
        return total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tessera", default=os.path.join(ROOT, "target/release/tessera"))
    ap.add_argument("--ra", default=os.path.join(ROOT, "target/release/tessera-ra"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tessera-bench-renewal-") as d:
        env = dict(os.environ)
        env.pop("TESSERA_LOG", None)
        with open(os.path.join(d, "softhsm2.conf"), "w") as f:
            f.write(f"directories.tokendir = {d}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n")
        env["SOFTHSM2_CONF"] = os.path.join(d, "softhsm2.conf")
        ra, server, codes = start_ra(args.ra, d, args.runs)
        try:
            bed = Bed(d, env, args.tessera, server, args.ra)
            ours, waits, peer = [], [], []
            for _ in range(args.runs):
                data, _ = bed.activated(codes.pop()[1])
                wall, wait = bed.ours(data)
                ours.append(wall)
                waits.append(wall / wait)
                _, ident = bed.activated(codes.pop()[1])
                peer.append(bed.peer(ident))
        finally:
            ra.kill()
    ms = lambda xs: statistics.median(xs) * 1000
    print(f"\n## Renewal (bench/renewal.py, release CLI and RA, {args.runs} runs, median)\n")
    print("| token | tessera renew ms | (a) wall / (on-card + RA round trips) | (b) manual re-key ms | tessera / manual |")
    print("|---|---|---|---|---|")
    print(f"| SoftHSM2 | {ms(ours):.0f} | {statistics.median(waits):.2f} | {ms(peer):.0f} | "
          f"{statistics.median(ours) / statistics.median(peer):.2f} |")


if __name__ == "__main__":
    main()
