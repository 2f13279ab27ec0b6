#!/usr/bin/env python3
"""Benchmark a whole activation at the counter (bench/README.md), on SoftHSM2 and on the
virtual OpenPGP card through OpenSC, for a one-certificate (signature) and a
two-certificate (cns+signature) request, against the same tessera-ra on loopback:

    tessera activate --operator --stdin      (RSA-2048 keys, CMP ir signed on the card;
                                             the operator signs in with their account)

compared with
 (a) the sum of what it waits for in the same run: the time inside C_GenerateKeyPair,
     C_Sign and C_CreateObject (tessera's trace log) plus the RA's round trips (its
     debug log): what is left is Tessera's own work and the processes' start-up;
 (b) the manual pipeline on the same token and RA, one process per step: the operator
     API arming the request (curl), then per certificate `pkcs11-tool --keypairgen`,
     `openssl req -engine pkcs11`, `openssl cmp -cmd p10cr`, `pkcs11-tool --write-object`.

    bench/activation.py [--runs N] [--tessera PATH] [--ra PATH]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time

from operators import OFFICE, sign_in_answers
import primitives
from primitives import ENGINE, OPENSC, ROOT, SO_PIN, SOFTHSM, TESTBED, USER_PIN, card_time, run

OPERATOR = ("demo-operator", "9437e87fae95c03d3778f2575bb18ce30e647e51d86a8c37963364e1fc4f374e")
PGP_SIG, PGP_AUTH = "OpenPGP card (User PIN (sig))", "OpenPGP card (User PIN)"


def waited(log):
    """(seconds in the token, seconds in RA round trips) from tessera's log."""
    ra = 0.0
    for line in log.splitlines():
        r = re.search(r"elapsed_us=(\d+)", line)
        if r and "RA round trip" in line:
            ra += int(r.group(1)) / 1e6
    return card_time(log), ra


def uri_label(label):
    return label.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


class Bed:
    """One kind of token in directory d, made fresh before every run."""

    def __init__(self, kind, d, env):
        self.kind, self.d, self.env = kind, d, env
        if kind == "softhsm":
            self.module = SOFTHSM
            # (token label, CKA_ID, login for keygen/write) per role, in issue order.
            self.slots = {"cns-authentication": ("Blank", "03", False), "signature": ("Blank", "04", False)}
            self.token = "Blank"
        else:
            self.module = OPENSC
            self.slots = {"cns-authentication": (PGP_AUTH, "03", True), "signature": (PGP_SIG, "01", True)}
            self.token = PGP_SIG
        self.engine_conf = {}
        for label in {s[0] for s in self.slots.values()}:
            conf = os.path.join(d, f"openssl-{len(self.engine_conf)}.cnf")
            with open(conf, "w") as f:
                f.write("openssl_conf = init\n[init]\nengines = engines\n[engines]\npkcs11 = pkcs11\n"
                        f"[pkcs11]\nengine_id = pkcs11\ndynamic_path = {ENGINE}\nMODULE_PATH = {self.module}\ninit = 0\n")
            self.engine_conf[label] = conf

    def fresh(self):
        if self.kind == "softhsm":
            shutil.rmtree(os.path.join(self.d, "tokens"), ignore_errors=True)
            os.makedirs(os.path.join(self.d, "tokens"))
            run(["softhsm2-util", "--init-token", "--free", "--label", "Blank", "--so-pin", SO_PIN, "--pin", USER_PIN],
                self.env)
        else:
            subprocess.run([os.path.join(TESTBED, "card-remove.sh"), self.d, "0"], env=self.env, capture_output=True)
            shutil.rmtree(os.path.join(self.d, "card-0.state"), ignore_errors=True)
            time.sleep(0.5)
            run([os.path.join(TESTBED, "card-insert.sh"), self.d, "0", "openpgp"], self.env)
            deadline = time.time() + 15
            while time.time() < deadline:
                p = subprocess.run(["pkcs11-tool", "--module", OPENSC, "-L"], env=self.env, capture_output=True, text=True)
                if PGP_SIG in p.stdout:
                    break
                time.sleep(0.2)

    def ours(self, tessera, ra, ca, code, sign_in):
        data = tempfile.mkdtemp(dir=self.d)
        env = dict(self.env, TESSERA_LOG="tessera_core=trace,tessera_flows=debug", TESSERA_DATA_DIR=data,
                   TESSERA_MODULES=self.module)
        answers = sign_in + [code, "s"] + ([SO_PIN, USER_PIN] if self.kind == "openpgp" else [USER_PIN])
        wall, p = run([tessera, "activate", "--operator", "--stdin", "--json", "--token",
                       f"pkcs11:token={uri_label(self.token)}", "--ra", ra, "--ra-ca", ca], env, "\n".join(answers) + "\n")
        outcome = json.loads(p.stdout)
        card, ra_time = waited(p.stderr)
        return wall, card + ra_time, len(outcome["certificates"])

    def peer(self, server, reference, code, profile):
        total, _ = run(["curl", "-sf", "-X", "POST", "-H", f"Authorization: Bearer {OPERATOR[0]}", "-H",
                        "Content-Type: application/json", "-d", json.dumps({"activation_code": code}),
                        f"http://{server}/api/v1/operator/activation"], self.env)
        roles = ["cns-authentication", "signature"] if profile == "cns+signature" else ["signature"]
        for role in roles:
            label, ident, so = self.slots[role]
            login = ["--login", "--login-type", "so", "--so-pin", SO_PIN] if so else ["--login", "--pin", USER_PIN]
            base = ["pkcs11-tool", "--module", self.module, "--token-label", label]
            t, _ = run(base + login + ["--keypairgen", "--key-type", "rsa:2048", "--id", ident, "--label", role], self.env)
            total += t
            csr, cert = os.path.join(self.d, f"{role}.csr"), os.path.join(self.d, f"{role}.pem")
            key = f"pkcs11:token={uri_label(label)};id=%{ident};type=private;pin-value={USER_PIN}"
            t, _ = run(["openssl", "req", "-new", "-engine", "pkcs11", "-keyform", "engine", "-key", key,
                        "-subj", "/CN=ROSSI MARIO", "-out", csr], dict(self.env, OPENSSL_CONF=self.engine_conf[label]))
            total += t
            t, _ = run(["openssl", "cmp", "-cmd", "p10cr", "-server", server, "-path", "/.well-known/cmp",
                        "-ref", reference, "-secret", f"pass:{code}", "-csr", csr, "-certout", cert], self.env)
            total += t
            der = cert + ".der"
            run(["openssl", "x509", "-in", cert, "-outform", "DER", "-out", der], self.env)
            t, _ = run(base + login + ["--write-object", der, "--type", "cert", "--id", ident, "--label", role], self.env)
            total += t
        return total


def start_ra(ra_bin, d, runs):
    """tessera-ra with enough unarmed requests for every run (ours and the peer's)."""
    conf = os.path.join(d, "ra.toml")
    codes = {}
    with open(conf, "w") as f:
        f.write(f'listen = "127.0.0.1:0"\nca_certificate = "{d}/ra-ca.pem"\n')
        f.write(f'[[operator]]\nname = "bench"\noffice = "{OFFICE}"\ntoken_sha256 = "{OPERATOR[1]}"\n')
        for i in range(runs * 8):
            for profile in ("signature", "cns+signature"):
                ref = f"{'SIG' if profile == 'signature' else 'TWO'}-{i:04d}"
                code = f"{'SIGN' if profile == 'signature' else 'BOTH'}-{i:04d}-BNCH"
                codes.setdefault(profile, []).append((ref, code))
                f.write(f'[[request]]\nreference = "{ref}"\noffice = "{OFFICE}"\nactivation_code = "{code}"\n'
                        f'profile = "{profile}"\narmed = false\n'
                        'holder = { given_name = "MARIO", surname = "ROSSI", cf = "RSSMRA80A01H501U" }\n')
    p, server = primitives.start_ra(ra_bin, conf)
    return p, server, codes


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tessera", default=os.path.join(ROOT, "target/release/tessera"))
    ap.add_argument("--ra", default=os.path.join(ROOT, "target/release/tessera-ra"))
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="tessera-bench-activation-") as d:
        env = dict(os.environ)
        env.pop("TESSERA_LOG", None)
        run([os.path.join(TESTBED, "pcscd-up.sh"), d, "39400"], env)
        env.update(PCSCLITE_CSOCK_NAME=os.path.join(d, "run/pcscd.comm"), OPENSC_CONF=os.path.join(d, "opensc.conf"))
        with open(os.path.join(d, "softhsm2.conf"), "w") as f:
            f.write(f"directories.tokendir = {d}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n")
        env["SOFTHSM2_CONF"] = os.path.join(d, "softhsm2.conf")
        ra, server, codes = start_ra(args.ra, d, args.runs)
        try:
            for kind in ("softhsm", "openpgp"):
                bed = Bed(kind, d, env)
                for profile in ("signature", "cns+signature"):
                    ours, waits, peer = [], [], []
                    for _ in range(args.runs):
                        bed.fresh()
                        ref, code = codes[profile].pop()
                        sign_in = sign_in_answers(args.ra, os.path.join(d, "ra.toml"), server)
                        wall, wait, n = bed.ours(args.tessera, f"http://{server}", f"{d}/ra-ca.pem", code, sign_in)
                        assert n == (2 if profile == "cns+signature" else 1)
                        ours.append(wall)
                        waits.append(wall / wait)
                        bed.fresh()
                        ref, code = codes[profile].pop()
                        peer.append(bed.peer(server, ref, code, profile))
                    rows.append((kind, profile, statistics.median(ours) * 1000, statistics.median(waits),
                                 statistics.median(peer) * 1000))
        finally:
            ra.kill()
            run([os.path.join(TESTBED, "pcscd-down.sh"), d], os.environ)
    print(f"## Activation at the counter, RSA-2048 ({args.runs} runs each, median)")
    print("| token | profile | tessera activate ms | (a) wall / (on-card + RA round trips) | (b) manual pipeline ms | tessera / manual |")
    print("|---|---|---|---|---|---|")
    names = {"softhsm": "SoftHSM2", "openpgp": "OpenPGP card (virtual, OpenSC over pcscd)"}
    for kind, profile, o, a, p in rows:
        print(f"| {names[kind]} | {profile} | {o:.0f} | {a:.2f} | {p:.0f} | {o / p:.2f} |")


if __name__ == "__main__":
    main()
