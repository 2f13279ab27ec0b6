#!/usr/bin/env python3
"""Benchmark `tessera devices` against the tools a power user would run on the same
test bed (bench/README.md). Whole processes, same machine, same tokens.

    bench/devices.py [--runs N] [--tessera PATH]

1. Listing: 2 readers (with cards) + 4 SoftHSM2 tokens x 3 certificates.
   tessera devices --json           vs  pkcs11-tool -L + pkcs11-tool -O per token
2. Insert-to-event latency: tessera devices --watch  vs  pcsc_scan, both watching the
   same pcscd while a virtual card is inserted and removed.
"""
import argparse
import json
import os
import queue
import statistics
import subprocess
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTBED = os.path.join(ROOT, "testbed")
MODULE = "/usr/lib/softhsm/libsofthsm2.so"
ATR_CNS = "3B FF 18 00 FF 81 31 FE 55 00 6B 02 09 02 00 01 01 01 43 4E 53 10 31 80 9F"
ATR_TESTBED = "3B 8A 80 01 54 45 53 53 45 52 41 2D 54 31 04"


def sh(*cmd, env=None):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)


def timed(cmds, env, runs):
    """Median and p90 wall time (ms) of running `cmds` one after the other."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        for c in cmds:
            subprocess.run(c, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9) - 1]


def reader_thread(proc, q, name):
    for line in proc.stdout:
        q.put((time.perf_counter(), name, line))


def latency(tessera, env, dirname, rounds):
    q = queue.Queue()
    procs = {
        "tessera": subprocess.Popen([tessera, "devices", "--watch", "--json"], env=env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL),
        "pcsc_scan": subprocess.Popen(["stdbuf", "-oL", "pcsc_scan", "-n"], env=env, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL),
    }
    for name, p in procs.items():
        threading.Thread(target=reader_thread, args=(p, q, name), daemon=True).start()
    time.sleep(1.5)
    while not q.empty():
        q.get()
    results = {"tessera": {"insert": [], "remove": []}, "pcsc_scan": {"insert": [], "remove": []}}

    def is_event(name, line, kind):
        if name == "tessera":
            return f'"card-{kind}ed"' in line if kind == "insert" else '"card-removed"' in line
        return ("Card inserted" in line) if kind == "insert" else ("Card removed" in line)

    for _ in range(rounds):
        for kind in ("insert", "remove"):
            t0 = time.perf_counter()
            if kind == "insert":
                sh(os.path.join(TESTBED, "card-insert.sh"), dirname, "1", ATR_TESTBED)
            else:
                sh(os.path.join(TESTBED, "card-remove.sh"), dirname, "1")
            seen = {}
            deadline = time.time() + 5
            while len(seen) < 2 and time.time() < deadline:
                try:
                    t, name, line = q.get(timeout=0.5)
                except queue.Empty:
                    continue
                if name not in seen and is_event(name, line, kind):
                    seen[name] = (t - t0) * 1000
            for name, ms in seen.items():
                results[name][kind].append(ms)
            time.sleep(0.3)
            while not q.empty():
                q.get()
    for p in procs.values():
        p.kill()
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--tessera", default=os.path.join(ROOT, "target/release/tessera"))
    args = ap.parse_args()
    if not os.path.exists(args.tessera):
        raise SystemExit(f"{args.tessera} missing: cargo build --release -p tessera-cli")
    with tempfile.TemporaryDirectory(prefix="tessera-bench-") as d:
        env = dict(os.environ, PCSCLITE_CSOCK_NAME=os.path.join(d, "run/pcscd.comm"),
                   SOFTHSM2_CONF=os.path.join(d, "softhsm2.conf"))
        sh(os.path.join(TESTBED, "pcscd-up.sh"), d, "39000")
        try:
            sh(os.path.join(TESTBED, "softhsm-up.sh"), d, "--bench", "4")
            # Two cards the catalog knows and that need no middleware: the listing itself is
            # measured, not OpenSC probing a card (measured separately below).
            sh(os.path.join(TESTBED, "card-insert.sh"), d, "0", ATR_TESTBED)
            sh(os.path.join(TESTBED, "card-insert.sh"), d, "1", ATR_TESTBED.replace("31 04", "32 07"))
            time.sleep(1)
            out = subprocess.run([args.tessera, "devices", "--json", "--no-p11-kit", "--module", MODULE],
                                 env=env, capture_output=True, text=True, check=True).stdout
            snap = json.loads(out)
            ntok = len(snap["tokens"])
            ncert = sum(len(t["certificates"]) for t in snap["tokens"])
            assert (len(snap["readers"]), ntok, ncert) == (2, 4, 12), (len(snap["readers"]), ntok, ncert)

            t_ours = timed([[args.tessera, "devices", "--json", "--no-p11-kit", "--module", MODULE]], env, args.runs)
            t_default = timed([[args.tessera, "devices", "--json"]], env, args.runs)
            peer = [["pkcs11-tool", "--module", MODULE, "-L"]] + [
                ["pkcs11-tool", "--module", MODULE, "--token-label", f"Bench {i}", "-O"] for i in range(4)]
            t_peer = timed(peer, env, args.runs)
            # A CNS card in reader 0: the catalog names OpenSC, which probes the card.
            sh(os.path.join(TESTBED, "card-remove.sh"), d, "0")
            sh(os.path.join(TESTBED, "card-insert.sh"), d, "0", ATR_CNS)
            time.sleep(1)
            t_cns = timed([[args.tessera, "devices", "--json", "--no-p11-kit", "--module", MODULE]], env, args.runs)
            opensc = "/usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so"
            t_peer_cns = timed(peer + [["pkcs11-tool", "--module", opensc, "-L"]], env, args.runs)
            sh(os.path.join(TESTBED, "card-remove.sh"), d, "0")
            sh(os.path.join(TESTBED, "card-remove.sh"), d, "1")
            time.sleep(1)
            lat = latency(args.tessera, env, d, args.rounds)
        finally:
            sh(os.path.join(TESTBED, "pcscd-down.sh"), d)

    med = lambda xs: statistics.median(xs) if xs else float("nan")
    print(f"## Listing: 2 readers + {ntok} tokens x 3 certificates ({args.runs} runs, median / p90 ms)")
    print("| command | median | p90 | ratio to peer |")
    print("|---|---|---|---|")
    print(f"| pkcs11-tool -L + 4 x pkcs11-tool -O (peer) | {t_peer[0]:.1f} | {t_peer[1]:.1f} | 1.00 |")
    print(f"| tessera devices --json (SoftHSM2 module only) | {t_ours[0]:.1f} | {t_ours[1]:.1f} | {t_ours[0] / t_peer[0]:.2f} |")
    print(f"| tessera devices --json (default: p11-kit modules; OpenSC left out, no card needs it) | {t_default[0]:.1f} | {t_default[1]:.1f} | {t_default[0] / t_peer[0]:.2f} |")
    print()
    print("With a CNS card in reader 0 (OpenSC, named by the catalog, probes it):")
    print()
    print("| command | median | p90 | ratio to peer |")
    print("|---|---|---|---|")
    print(f"| peer above + pkcs11-tool --module opensc-pkcs11.so -L | {t_peer_cns[0]:.1f} | {t_peer_cns[1]:.1f} | 1.00 |")
    print(f"| tessera devices --json | {t_cns[0]:.1f} | {t_cns[1]:.1f} | {t_cns[0] / t_peer_cns[0]:.2f} |")
    print()
    print(f"## Insert/remove-to-event latency ({args.rounds} rounds, median ms from starting the virtual card's process, which includes its Python start-up)")
    print("| watcher | insert | remove |")
    print("|---|---|---|")
    for name in ("pcsc_scan", "tessera"):
        r = lat[name]
        print(f"| {name} | {med(r['insert']):.1f} (n={len(r['insert'])}) | {med(r['remove']):.1f} (n={len(r['remove'])}) |")
    ti, pi = med(lat["tessera"]["insert"]), med(lat["pcsc_scan"]["insert"])
    tr, pr = med(lat["tessera"]["remove"]), med(lat["pcsc_scan"]["remove"])
    print(f"\nratio tessera/pcsc_scan: insert {ti / pi:.2f}, remove {tr / pr:.2f}")


if __name__ == "__main__":
    main()
