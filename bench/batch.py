#!/usr/bin/env python3
"""Benchmark several cards at once at the counter (bench/README.md): N = 1, 2, 3, 4 cards
activated by one batch, each in a lane of its own,

    tessera activate --operator --stdin --batch FILE --algorithm ALG

against the same N cards activated one after another, as a counter without lanes does,

    tessera activate --operator --stdin --reference REF --token CARD --algorithm ALG   (N times)

with P-256 keys (so that the two CPU cores of the test bed are not what is measured) and
then RSA-2048. The cards are fresh SoftHSM2 tokens (the test bed has two virtual readers,
not four); every run signs its operator in (one sign-in for the batch, one per card
without it), against one tessera-ra on loopback. The figure is the throughput ratio:
the time one after another over the batch's time (N would be perfect).

    bench/batch.py [--runs N] [--tessera PATH] [--ra PATH]
"""
import argparse
import os
import statistics
import subprocess
import tempfile

from operators import OFFICE, sign_in_answers
import primitives
from primitives import ROOT, SO_PIN, SOFTHSM, USER_PIN, run

SIZES = (1, 2, 3, 4)


def start_ra(ra_bin, d, count):
    conf = os.path.join(d, "ra.toml")
    with open(conf, "w") as f:
        # Every client of the benchmark is 127.0.0.1: the per-address limits are lifted.
        f.write(f'listen = "127.0.0.1:0"\nca_certificate = "{d}/ra-ca.pem"\n'
                '[limits]\ncalls_per_minute = 100000\nfailures_per_minute = 100000\n')
        for i in range(count):
            f.write(f'[[request]]\nreference = "LOT-{i:05d}"\noffice = "{OFFICE}"\nactivation_code = "LOTT-{i:05d}-BNCH"\n'
                    'profile = "signature"\narmed = false\n'
                    'holder = { given_name = "MARIO", surname = "ROSSI", cf = "RSSMRA80A01H501U" }\n')
    p, server = primitives.start_ra(ra_bin, conf)
    return p, server, conf


class Bed:
    def __init__(self, d, tessera, ra_bin, server, conf):
        self.d, self.tessera, self.ra_bin, self.server, self.conf = d, tessera, ra_bin, server, conf
        self.env = dict(os.environ, SOFTHSM2_CONF=os.path.join(d, "softhsm2.conf"), TESSERA_MODULES=SOFTHSM)
        self.env.pop("TESSERA_LOG", None)
        self.ra = ["--ra", f"http://{server}", "--ra-ca", f"{d}/ra-ca.pem"]
        self.next = 0

    def cards(self, n):
        """n fresh, empty tokens, and a fresh data directory (no journal)."""
        tokens = os.path.join(self.d, "tokens")
        subprocess.run(["rm", "-rf", tokens], check=True)
        os.makedirs(tokens)
        with open(self.env["SOFTHSM2_CONF"], "w") as f:
            f.write(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
        for i in range(n):
            run(["softhsm2-util", "--init-token", "--free", "--label", f"Carta {i}", "--so-pin", SO_PIN,
                 "--pin", USER_PIN], self.env)
        self.env["TESSERA_DATA_DIR"] = tempfile.mkdtemp(dir=self.d)

    def references(self, n):
        refs = [f"LOT-{self.next + i:05d}" for i in range(n)]
        self.next += n
        return refs

    def sign_in(self):
        return "\n".join(sign_in_answers(self.ra_bin, self.conf, self.server)) + "\n"

    def one_after_another(self, n, algorithm):
        self.cards(n)
        total = 0.0
        for i, ref in enumerate(self.references(n)):
            answers = self.sign_in() + f"y\n{USER_PIN}\n"
            t, _ = run([self.tessera, "--lang", "en", "activate", "--operator", "--stdin", "--reference", ref,
                        "--token", f"pkcs11:token=Carta%20{i}", "--algorithm", algorithm] + self.ra, self.env, answers)
            total += t
        return total

    def at_once(self, n, algorithm):
        self.cards(n)
        file = os.path.join(self.d, "batch.txt")
        with open(file, "w") as f:
            f.write("\n".join(self.references(n)) + "\n")
        answers = self.sign_in() + "y\n" + f"{USER_PIN}\n" * n
        t, p = run([self.tessera, "--lang", "en", "activate", "--operator", "--stdin", "--batch", file,
                    "--algorithm", algorithm] + self.ra, self.env, answers)
        assert p.stdout.count('"activated":true') == n, p.stdout + p.stderr
        return t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tessera", default=os.path.join(ROOT, "target/release/tessera"))
    ap.add_argument("--ra", default=os.path.join(ROOT, "target/release/tessera-ra"))
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="tessera-bench-batch-") as d:
        ra, server, conf = start_ra(args.ra, d, 2 * args.runs * sum(SIZES) * 2)
        try:
            bed = Bed(d, args.tessera, args.ra, server, conf)
            for algorithm in ("p256", "rsa2048"):
                for n in SIZES:
                    seq, lot = [], []
                    for _ in range(args.runs):
                        seq.append(bed.one_after_another(n, algorithm))
                        lot.append(bed.at_once(n, algorithm))
                    s, b = statistics.median(seq), statistics.median(lot)
                    rows.append((algorithm, n, s * 1000, b * 1000, s / b))
        finally:
            ra.kill()
    print(f"## Several cards at once (SoftHSM2 tokens, signature request, {args.runs} runs each, median)")
    print("| keys | N cards | one after another ms | one batch ms | throughput ratio (ideal N) |")
    print("|---|---|---|---|---|")
    for algorithm, n, s, b, r in rows:
        print(f"| {algorithm} | {n} | {s:.0f} | {b:.0f} | {r:.2f} |")


if __name__ == "__main__":
    main()
