#!/usr/bin/env python3
"""Benchmark generate + CSR + install on a token against the manual pipeline a power user
runs on the same token (bench/README.md):

    pkcs11-tool --keypairgen  ->  openssl req -engine pkcs11  ->  pkcs11-tool --write-object
    tessera key generate      ->  tessera csr                 ->  tessera cert install

for RSA-2048 and P-256, on SoftHSM2 and on the virtual OpenPGP card through OpenSC.
The CA step between CSR and install (openssl x509 -req) is the same for both and not timed.
The card's share is the time tessera spends inside C_GenerateKeyPair, C_Sign and
C_CreateObject (from its trace log), over its whole pipeline.

    bench/primitives.py [--runs N] [--tessera PATH]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTBED = os.path.join(ROOT, "testbed")
SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
OPENSC = "/usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so"
ENGINE = "/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so"
USER_PIN, SO_PIN = "123456", "12345678"


def run(cmd, env, stdin=None):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, input=stdin, text=True, capture_output=True)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd}: {p.stderr}")
    return time.perf_counter() - t0, p


def start_ra(ra_bin, conf):
    """tessera-ra with configuration `conf`, and the host:port its first line says it
    listens on."""
    p = subprocess.Popen([ra_bin, "--config", conf], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return p, p.stdout.readline().split("://")[1].split("/")[0]


def card_time(trace):
    """Seconds between each C_GenerateKeyPair / C_Sign / C_CreateObject / C_DestroyObject
    trace line and the next line: the time spent in the token."""
    stamps = []
    for line in trace.splitlines():
        m = re.match(r"\S*?(\d\d):(\d\d):(\d\d\.\d+)Z", re.sub(r"\x1b\[[0-9;]*m", "", line))
        if m:
            stamps.append((int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3)), line))
    total = 0.0
    for (t, line), (t2, _) in zip(stamps, stamps[1:]):
        if any(k in line for k in ("C_GenerateKeyPair", "C_Sign", "C_CreateObject", "C_DestroyObject")):
            total += t2 - t
    return total


class Bed:
    def __init__(self, kind, d):
        self.kind, self.d = kind, d
        self.env = dict(os.environ)
        self.env.update(PCSCLITE_CSOCK_NAME=os.path.join(d, "run/pcscd.comm"), OPENSC_CONF=os.path.join(d, "opensc.conf"),
                        SOFTHSM2_CONF=os.path.join(d, "softhsm2.conf"))
        self.env.pop("TESSERA_LOG", None)
        self.ca = os.path.join(d, "ca")
        os.makedirs(self.ca, exist_ok=True)
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{self.ca}/ca.key", "-out", f"{self.ca}/ca.crt", "-subj", "/CN=Bench CA", "-days", "30"], self.env)
        if kind == "softhsm":
            self.module, self.token, self.so = SOFTHSM, "Bench 0", False
        else:
            self.module, self.token, self.so = OPENSC, "OpenPGP card (User PIN)", True
        conf = os.path.join(d, "openssl-pkcs11.cnf")
        with open(conf, "w") as f:
            f.write("openssl_conf = init\n[init]\nengines = engines\n[engines]\npkcs11 = pkcs11\n"
                    f"[pkcs11]\nengine_id = pkcs11\ndynamic_path = {ENGINE}\nMODULE_PATH = {self.module}\ninit = 0\n")
        self.openssl_conf = conf

    def fresh(self):
        """A token with room for a new key pair in slot 03 / id 03."""
        if self.kind == "softhsm":
            shutil.rmtree(os.path.join(self.d, "tokens"), ignore_errors=True)
            if os.path.exists(os.path.join(self.d, "env")):
                os.remove(os.path.join(self.d, "env"))
            run([os.path.join(TESTBED, "softhsm-up.sh"), self.d, "--bench", "1"], self.env)
        else:
            run([os.path.join(TESTBED, "card-remove.sh"), self.d, "0"], self.env)
            shutil.rmtree(os.path.join(self.d, "card-0.state"), ignore_errors=True)
            time.sleep(0.5)
            run([os.path.join(TESTBED, "card-insert.sh"), self.d, "0", "openpgp"], self.env)
            deadline = time.time() + 15
            while time.time() < deadline:
                p = subprocess.run(["pkcs11-tool", "--module", OPENSC, "-L"], env=self.env, capture_output=True, text=True)
                if self.token in p.stdout:
                    break
                time.sleep(0.2)

    def issue(self, csr):
        run(["openssl", "x509", "-req", "-in", csr, "-CA", f"{self.ca}/ca.crt", "-CAkey", f"{self.ca}/ca.key",
             "-CAcreateserial", "-days", "30", "-out", f"{csr}.crt", "-outform", "DER"], self.env)
        return f"{csr}.crt"

    def peer(self, alg):
        key_type = {"rsa2048": "rsa:2048", "p256": "EC:prime256v1"}[alg]
        login = ["--login", "--login-type", "so", "--so-pin", SO_PIN] if self.so else ["--login", "--pin", USER_PIN]
        base = ["pkcs11-tool", "--module", self.module, "--token-label", self.token]
        t1, _ = run(base + login + ["--keypairgen", "--key-type", key_type, "--id", "03", "--label", "Bench"], self.env)
        env = dict(self.env, OPENSSL_CONF=self.openssl_conf)
        csr = os.path.join(self.d, "peer.csr")
        uri = f"pkcs11:token={self.token.replace(' ', '%20').replace('(', '%28').replace(')', '%29')};id=%03;type=private;pin-value={USER_PIN}"
        t2, _ = run(["openssl", "req", "-new", "-engine", "pkcs11", "-keyform", "engine", "-key", uri,
                     "-subj", "/CN=ROSSI MARIO", "-out", csr], env)
        cert = self.issue(csr)
        t3, _ = run(base + login + ["--write-object", cert, "--type", "cert", "--id", "03", "--label", "Bench"], self.env)
        return t1 + t2 + t3, None

    def ours(self, tessera, alg):
        env = dict(self.env, TESSERA_LOG="tessera_core=trace")
        pin_for_write = SO_PIN if self.so else USER_PIN
        token = "pkcs11:token=" + self.token.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        common = ["--module", self.module, "--pin-stdin"]
        t1, p1 = run([tessera, "key", "generate", "--token", token, "--algorithm", alg, "--id", "03", "--label", "Bench"] + common, env, pin_for_write + "\n")
        csr = os.path.join(self.d, "ours.csr")
        t2, p2 = run([tessera, "csr", "--key", f"{token};id=%03", "--cn", "ROSSI MARIO", "--out", csr] + common, env, USER_PIN + "\n")
        cert = self.issue(csr)
        t3, p3 = run([tessera, "cert", "install", "--key", f"{token};id=%03", "--label", "Bench", cert] + common, env, pin_for_write + "\n")
        on_card = sum(card_time(p.stderr) for p in (p1, p2, p3))
        return t1 + t2 + t3, on_card


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tessera", default=os.path.join(ROOT, "target/release/tessera"))
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="tessera-bench-") as d:
        run([os.path.join(TESTBED, "pcscd-up.sh"), d, "39200"], os.environ)
        try:
            for kind in ("softhsm", "openpgp"):
                bed = Bed(kind, d)
                for alg in ("p256", "rsa2048"):
                    peer, ours, card = [], [], []
                    for _ in range(args.runs):
                        bed.fresh()
                        peer.append(bed.peer(alg)[0])
                        bed.fresh()
                        total, on_card = bed.ours(args.tessera, alg)
                        ours.append(total)
                        card.append(on_card / total)
                    rows.append((kind, alg, statistics.median(peer) * 1000, statistics.median(ours) * 1000, statistics.median(card)))
        finally:
            run([os.path.join(TESTBED, "pcscd-down.sh"), d], os.environ)
    print(f"## Generate + CSR + install ({args.runs} runs each, median ms; CA step not timed)")
    print("| token | key | manual pipeline (peer) | tessera | ratio | tessera's time on the token |")
    print("|---|---|---|---|---|---|")
    names = {"softhsm": "SoftHSM2", "openpgp": "OpenPGP card (virtual, OpenSC over pcscd)"}
    for kind, alg, p, o, c in rows:
        print(f"| {names[kind]} | {alg} | {p:.0f} | {o:.0f} | {o / p:.2f} | {c * 100:.0f}% |")


if __name__ == "__main__":
    main()
