#!/usr/bin/env python3
"""Benchmark tessera-ra's CMP enrollment (bench/README.md): p10cr + certConf per
enrollment, at 1, 10 and 50 concurrent clients (bench/cmp-load), on SQLite and on
PostgreSQL (a private server started here); and
`openssl cmp` per-request latency on the same RA as the reference point. After each run
the RA's own records are checked: every request confirmed once, none lost or duplicated.

    bench/ra.py [--requests N]
"""
import argparse
import hashlib
import json
import os
import statistics
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "bench-operator-token"


def api(server, method, path, body=None):
    req = urllib.request.Request(f"http://{server}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")


def postgres(d):
    """Start a private PostgreSQL as the postgres user; returns (url, stop)."""
    import glob
    import socket
    bin_dir = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
    data, sock = os.path.join(d, "pg", "data"), os.path.join(d, "pg")
    os.makedirs(sock)
    subprocess.run(["chown", "-R", "postgres:postgres", sock], check=True)
    os.chmod(d, 0o755)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = lambda *a: subprocess.run(["runuser", "-u", "postgres", "--", *a], check=True, capture_output=True)
    run(f"{bin_dir}/initdb", "-D", data, "-A", "trust", "-U", "postgres")
    run(f"{bin_dir}/pg_ctl", "-D", data, "-o", f"-k {sock} -p {port} -c listen_addresses=''", "-l",
        os.path.join(sock, "log"), "-w", "start")
    return (f"postgres://postgres@localhost/postgres?host={sock}&port={port}",
            lambda: run(f"{bin_dir}/pg_ctl", "-D", data, "-m", "fast", "stop"))


def openssl_reference(server, d, runs):
    """Per-enrollment latency of `openssl cmp -cmd p10cr`, one process each, as a user runs it."""
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", os.path.join(d, "k.pem"), "-subj", "/CN=x", "-out", os.path.join(d, "r.csr")],
                   check=True, capture_output=True)
    holder = api(server, "POST", "/api/v1/operator/holders",
                 {"given_name": "RIF", "surname": "OPENSSL", "cf": "PNSRFX80A01H501X", "cf_forced": True})["holder_id"]
    times = []
    for i in range(runs):
        r = api(server, "POST", "/api/v1/operator/requests", {"holder_id": holder, "profile": "signature"})
        api(server, "POST", f"/api/v1/operator/requests/{r['reference']}/arm", {"activation_code": r["activation_code"]})
        t0 = time.perf_counter()
        subprocess.run(["openssl", "cmp", "-cmd", "p10cr", "-server", server, "-path", "/.well-known/cmp",
                        "-ref", r["reference"], "-secret", f"pass:{r['activation_code']}",
                        "-csr", os.path.join(d, "r.csr"), "-certout", os.path.join(d, f"c{i}.pem")],
                       check=True, capture_output=True)
        times.append((time.perf_counter() - t0) * 1000)
    return sorted(times)


def hsm_ca(d):
    """A SoftHSM2 token holding a P-256 issuing CA key: the [ca] section naming it, and
    the environment the RA needs to find the token."""
    hsm = os.path.join(d, "hsm")
    subprocess.run([os.path.join(ROOT, "testbed/softhsm-up.sh"), hsm, "--empty"], check=True, capture_output=True)
    env = dict(os.environ, SOFTHSM2_CONF=os.path.join(hsm, "softhsm2.conf"))
    module = "/usr/lib/softhsm/libsofthsm2.so"
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "CA", "--so-pin", "12345678",
                    "--pin", "4321"], env=env, check=True, capture_output=True)
    subprocess.run(["pkcs11-tool", "--module", module, "--token-label", "CA", "--login", "--pin", "4321",
                    "--keypairgen", "--key-type", "EC:prime256v1", "--label", "issuing", "--id", "01"],
                   env=env, check=True, capture_output=True)
    pin = os.path.join(hsm, "ca.pin")
    with open(pin, "w") as f:
        f.write("4321\n")
    return f'[ca]\nkey = "pkcs11:token=CA;object=issuing?module-path={module}&pin-source=file:{pin}"\n', env


def run_backend(name, d, database, args, ra_bin, load_bin, openssl_runs=0, ca=("", None), levels=(1, 10, 50)):
    """Start the RA on `database` (None: SQLite), its CA key as `ca` says (hsm_ca; default
    a key file), load it at 1, 10 and 50 clients; returns the rows and, when asked,
    openssl's reference latencies."""
    with open(os.path.join(d, f"ra-{name}.toml"), "w") as f:
        f.write('listen = "127.0.0.1:0"\n' + (f'database = "{database}"\n' if database else "")
                + f'state_dir = "{os.path.join(d, name)}"\n[[operator]]\nname = "bench"\n'
                + f'token_sha256 = "{hashlib.sha256(TOKEN.encode()).hexdigest()}"\n' + ca[0])
    ra = subprocess.Popen([ra_bin, "--config", os.path.join(d, f"ra-{name}.toml")], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True, env=ca[1])
    server = ra.stdout.readline().split("://")[1].split("/")[0]
    rows = []
    try:
        for c in levels:
            out = subprocess.run([load_bin, "--server", server, "--token", TOKEN, "--requests", str(args.requests),
                                  "--concurrency", str(c)], capture_output=True, text=True, check=True).stdout
            rows.append(dict(json.loads(out), backend=name))
        times = openssl_reference(server, d, openssl_runs) if openssl_runs else []
    finally:
        ra.kill()
    return rows, times


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--openssl", type=int, default=20)
    args = ap.parse_args()
    ra_bin = os.path.join(ROOT, "target/release/tessera-ra")
    load_bin = os.path.join(ROOT, "target/release/cmp-load")
    with tempfile.TemporaryDirectory(prefix="tessera-ra-bench-") as d:
        rows, times = run_backend("SQLite", d, None, args, ra_bin, load_bin, args.openssl)
        url, stop = postgres(d)
        try:
            rows += run_backend("PostgreSQL", d, url, args, ra_bin, load_bin)[0]
        finally:
            stop()
        rows += run_backend("SQLite, CA key in SoftHSM2", d, None, args, ra_bin, load_bin, ca=hsm_ca(d),
                            levels=(1, 10))[0]
    print(f"## tessera-ra: CMP enrollments (p10cr + certConf), loopback, {args.requests} per run")
    print("| database | concurrent clients | enrollments/s | p50 ms | p99 ms | failed | lost | duplicated |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['backend']} | {r['concurrency']} | {r['per_second']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['failures']} | {r['lost']} | {r['duplicated']} |")
    print()
    print(f"Reference: `openssl cmp -cmd p10cr` against the same RA, one process per enrollment: "
          f"median {statistics.median(times):.1f} ms, p90 {times[int(len(times) * 0.9) - 1]:.1f} ms ({len(times)} runs); "
          f"tessera-ra's own share at 1 client is the p50 above.")


if __name__ == "__main__":
    main()
