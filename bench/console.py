#!/usr/bin/env python3
"""Benchmark the registration office's console (bench/README.md): its pages and the
request form's PDF with 100,000 holders (and their requests and certificates) in the
database, on SQLite and on PostgreSQL (a private server, started as bench/ra.py does).

Each backend: the database is made and migrated by `tessera-ra operator add` (the 50
operator accounts of office RM01), then seeded directly in SQL (most holders in RM01, the
rest in three other offices, so that office scoping has something to leave out); the RA
starts, every operator signs in through the console's forms (one-time password, TOTP code,
a new password), and each operator (a thread with its own session and keep-alive
connection) goes round the pages:

    /console/                         home: the office's counts
    /console/search?q=SURNAME         list: one of the 20 commonest surnames
    /console/requests/REF             detail: a random request of the office
    /console/requests/REF/form.pdf    the request form (an audit entry is written)
    /console/search?state=to-verify   list by state
    /console/requests/REF             detail
    /console/certificates?q=SURNAME   certificates found
    /console/audit                    the office's audit log

three times: one operator alone (the service time), 50 operators without pause (50
requests always in flight: saturation, where latency is queueing) and 50 operators pausing
about a second between pages. Every answer must be 200 with the expected content (the
operator's name on a page, the reference on a detail page, %PDF- for the PDF); anything
else counts as an error. Then 50 threads fetch a static asset: how fast this Python client
goes at all, and its own share of the latencies. The client, the RA and PostgreSQL share
the machine's cores: the CPU each used is reported.

    bench/console.py [--holders N] [--operators N] [--seconds S] [--think S] [--ra PATH]
"""
import argparse
import base64
import contextlib
import hashlib
import hmac
import http.client
import json
import math
import os
import random
import re
import signal
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from ra import postgres

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OFFICE = "RM01"
# (office, share of the holders): RM01 is the operators' office.
OFFICES = [("RM01", 0.70), ("MI01", 0.15), ("NA01", 0.10), ("TO01", 0.05)]
PASSWORD = "Sole di marzo 2027"
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
COMMON = ["ROSSI", "RUSSO", "FERRARI", "ESPOSITO", "BIANCHI", "ROMANO", "COLOMBO", "RICCI", "MARINO", "GRECO",
          "BRUNO", "GALLO", "CONTI", "DE LUCA", "MANCINI", "COSTA", "GIORDANO", "RIZZO", "LOMBARDI", "MORETTI"]
GIVEN = [("M", n) for n in ["MARIO", "LUCA", "MARCO", "GIUSEPPE", "FRANCESCO", "ANDREA", "ALESSANDRO", "GIOVANNI",
                            "ROBERTO", "STEFANO", "PAOLO", "NICCOLÒ", "MATTEO", "LORENZO", "DAVIDE"]] + \
        [("F", n) for n in ["ANNA", "MARIA", "GIULIA", "FRANCESCA", "SARA", "LAURA", "CHIARA", "ELENA", "VALENTINA",
                            "SILVIA", "MARTINA", "ALESSIA", "FEDERICA", "PAOLA", "ROBERTA"]]
SYLLABLES = ["BA", "BE", "CA", "CO", "DA", "DE", "FA", "FO", "GA", "GI", "LA", "LO", "MA", "MO", "NA", "NI", "PA",
             "PE", "RA", "RI", "SA", "SO", "TA", "TI", "VA", "VI", "ZA", "ZO"]
ENDINGS = ["NI", "NO", "RI", "LLI", "TTI", "SSO", "NE", "LDI", "RDI", "CCI"]
PLACES = [("H501", "ROMA"), ("F205", "MILANO"), ("F839", "NAPOLI"), ("L219", "TORINO"), ("D612", "FIRENZE"),
          ("A944", "BOLOGNA"), ("G273", "PALERMO"), ("L736", "VENEZIA")]
# (verification, share): the console's path of a request; completed ones are mostly issued.
STATES = [("registered", 0.15), ("to-verify", 0.08), ("to-correct", 0.02), ("awaiting-originals", 0.05),
          ("completed", 0.70)]
GOAL_MS = {"pdf": 50.0}
PAGE_GOAL_MS = 100.0
# One operator's round: (kind, what to fetch).
ROUND = ["home", "search-name", "detail", "pdf", "search-state", "detail", "certificates", "audit"]
KINDS = ["home", "search-name", "search-state", "detail", "certificates", "audit", "pdf"]
LABELS = {"home": "home (office counts)", "search-name": "list: search?q=SURNAME",
          "search-state": "list: search?state=to-verify", "detail": "detail: requests/REF",
          "certificates": "list: certificates?q=SURNAME", "audit": "list: audit", "pdf": "PDF: requests/REF/form.pdf"}


# --- data ---------------------------------------------------------------------------

def tax_code(surname, given, sex, born, place, rnd):
    """An Italian tax code of the right shape and check letter (not checked against
    anybody: the RA does not re-check stored holders)."""
    def letters(s, given_name):
        s = re.sub(r"[^A-Z]", "", s.replace("Ò", "O"))
        cons = [c for c in s if c not in "AEIOU"]
        vows = [c for c in s if c in "AEIOU"]
        if given_name and len(cons) >= 4:
            cons = [cons[0], cons[2], cons[3]]
        return "".join(cons + vows + ["X"] * 3)[:3]
    day = born[2] + (40 if sex == "F" else 0)
    body = (letters(surname, False) + letters(given, True) + f"{born[0] % 100:02d}" + "ABCDEHLMPRST"[born[1] - 1]
            + f"{day:02d}" + place)
    odd = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]
    total = 0
    for i, c in enumerate(body):
        v = int(c) if c.isdigit() else ord(c) - 65
        total += odd[v] if i % 2 == 0 else v
    return body + chr(65 + total % 26)


def surname_of(rnd):
    """About 0.4% of holders have each of the 20 commonest surnames (ROSSI ~ 280 in RM01),
    the rest a long tail."""
    if rnd.random() < 0.08:
        return rnd.choice(COMMON)
    return "".join(rnd.choice(SYLLABLES) for _ in range(rnd.randint(1, 2))) + rnd.choice(ENDINGS)


def one_of(rnd, weighted):
    x, acc = rnd.random(), 0.0
    for value, share in weighted:
        acc += share
        if x < acc:
            return value
    return weighted[-1][0]


def certificate_der(d):
    """One real certificate (P-256, three years) whose DER every seeded certificate row
    carries: the console parses it for the validity dates; its far expiry keeps the RA's
    renewal notices from firing during the run."""
    der = os.path.join(d, "seed-cert.der")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", os.path.join(d, "seed-cert.key"), "-subj", "/CN=ROSSI MARIO/serialNumber=TINIT-X",
                    "-days", "1095", "-outform", "DER", "-out", der], check=True, capture_output=True)
    with open(der, "rb") as f:
        return f.read().hex()


HOLDER_COLUMNS = ["id", "given_name", "surname", "cf", "mobile", "email", "cf_forced", "created_by", "created_at",
                  "office", "sex", "birth_date", "birth_place", "address"]
REQUEST_COLUMNS = ["reference", "given_name", "surname", "cf", "profile", "issuance", "code_hash", "armed",
                   "failures", "holder_id", "created_by", "office", "verification", "registered_at", "code_issued_at",
                   "identified_by", "identified_at", "id_document", "verification_by", "verification_at",
                   "originals_due", "confirmed_profiles"]
CERT_COLUMNS = ["serial", "reference", "der", "issued_at", "state", "state_since", "reason", "confirmed", "profile",
                "seq", "not_after"]


def not_after_of(der_hex):
    """The certificate's end of validity (Unix seconds), as the RA stores it with each
    certificate it issues."""
    import datetime
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-enddate"], input=bytes.fromhex(der_hex),
                         check=True, capture_output=True).stdout.decode().strip()
    when = datetime.datetime.strptime(out.split("=", 1)[1], "%b %d %H:%M:%S %Y %Z")
    return int(when.replace(tzinfo=datetime.timezone.utc).timestamp())


def dataset(n, operators, der, seed=1):
    """Holders, requests (one each) and certificates (for the issued ones), as tuples in
    the column orders above; and the references and surnames of office RM01."""
    rnd = random.Random(seed)
    now = int(time.time())
    not_after = not_after_of(der)
    holders, requests, certs, ours = [], [], [], []
    seq = 0
    for i in range(1, n + 1):
        office = one_of(rnd, OFFICES)
        sex, given = rnd.choice(GIVEN)
        surname = surname_of(rnd)
        born = (rnd.randint(1940, 2005), rnd.randint(1, 12), rnd.randint(1, 28))
        code, place = rnd.choice(PLACES)
        cf = tax_code(surname, given, sex, born, code, rnd)
        by = f"op{rnd.randrange(operators):02d}" if office == OFFICE else f"{office.lower()}-op"
        registered = now - rnd.randint(3600, 3 * 365 * 86400)
        holders.append((i, given, surname, cf, f"+3933{i:08d}", f"h{i}@example.it", 0, by, registered, office, sex,
                        f"{born[0]:04d}-{born[1]:02d}-{born[2]:02d}", place, f"Via Roma {i % 200 + 1}, {place}"))
        # Like the RA's own (8 characters without look-alikes), unique: an odd multiplier
        # permutes the 40-bit numbers.
        x = (i * 0x9E3779B97 + seed) % (1 << 40)
        reference = "REQ-" + "".join(ALPHABET[(x >> (5 * k)) & 31] for k in range(8))
        state = one_of(rnd, STATES)
        profile = "cns+signature" if rnd.random() < 0.15 else "signature"
        issued = state == "completed" and rnd.random() < 0.85
        identified = state != "registered"
        document = json.dumps({"kind": "identity-card", "number": f"CA{i:05d}AB", "issuer": f"Comune di {place}",
                               "issued": "2024-01-15", "expires": "2034-01-15", "mode": "in-person"})
        verified = state in ("awaiting-originals", "completed")
        requests.append((
            reference, given, surname, cf, profile, "confirmed" if issued else "waiting",
            hashlib.sha256(reference.encode()).hexdigest(), 0, 5 if rnd.random() < 0.003 else 0, i, by, office,
            state, registered, registered + 3600 if verified else None, by if identified else None,
            registered + 600 if identified else None, document if identified else None,
            "verifier" if verified or state == "to-correct" else None, registered + 1800 if verified else None,
            # Originals due well after the run: the RA's sweeper has nothing to remind.
            now + rnd.randint(10, 30) * 86400 if state == "awaiting-originals" else None,
            profile.replace("cns+signature", "cns-authentication,signature") if issued else ""))
        if issued:
            for p in (["cns-authentication", "signature"] if profile == "cns+signature" else ["signature"]):
                seq += 1
                x = rnd.random()
                state_c, since, reason = ("active", None, None)
                if x < 0.02:
                    state_c, since = "suspended", now - 86400
                elif x < 0.03:
                    state_c, since, reason = "revoked", now - 86400, 1
                certs.append((rnd.randbytes(16).hex(), reference, der, registered + 7200, state_c, since, reason, 1, p,
                              seq, not_after))
        if office == OFFICE:
            ours.append(reference)
    return holders, requests, certs, ours


def seed_sqlite(path, holders, requests, certs):
    db = sqlite3.connect(path)
    for table, columns, rows in (("holders", HOLDER_COLUMNS, holders), ("requests", REQUEST_COLUMNS, requests),
                                 ("certificates", CERT_COLUMNS, certs)):
        db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)
    db.executemany("INSERT OR IGNORE INTO offices (code, name, created_at) VALUES (?, ?, ?)",
                   [(o, o, int(time.time())) for o, _ in OFFICES])
    db.commit()
    # No ANALYZE: the RA never runs it, so a database grown through the RA has no statistics.
    db.close()


def psql(url, sql, data=None):
    """Run `sql` with psql (COPY ... FROM STDIN reads `data`)."""
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], input=data, check=True,
                   capture_output=True, text=True)


def seed_postgres(url, holders, requests, certs):
    import csv
    import io
    for table, columns, rows in (("holders", HOLDER_COLUMNS, holders), ("requests", REQUEST_COLUMNS, requests),
                                 ("certificates", CERT_COLUMNS, certs)):
        buf = io.StringIO()
        w = csv.writer(buf)
        for r in rows:
            w.writerow(["\\N" if v is None else v for v in r])
        psql(url, f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buf.getvalue())
    psql(url, "SELECT setval(pg_get_serial_sequence('holders', 'id'), (SELECT max(id) FROM holders))")
    psql(url, "INSERT INTO offices (code, name, created_at) VALUES " + ", ".join(
        f"('{o}', '{o}', {int(time.time())})" for o, _ in OFFICES) + " ON CONFLICT (code) DO NOTHING")
    # What autovacuum does soon after a bulk load: statistics and the visibility map.
    psql(url, "VACUUM ANALYZE")


# --- accounts and sessions ------------------------------------------------------------

def totp(secret, at=None):
    """RFC 6238: 6 digits, 30-second steps, HMAC-SHA-1."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    step = int((time.time() if at is None else at) // 30)
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[o:o + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def add_operator(ra_bin, conf, name):
    out = subprocess.run([ra_bin, "operator", "add", "--config", conf, "--name", name, "--office", OFFICE,
                          "--role", "operator", "--json"], check=True, capture_output=True, text=True).stdout
    v = json.loads(out)
    secret = urllib.parse.parse_qs(urllib.parse.urlsplit(v["otpauth"]).query)["secret"][0]
    return name, v["password"], secret


class Operator:
    """One signed-in operator: a keep-alive connection and its cookies."""

    def __init__(self, server, name):
        self.server, self.name, self.cookies = server, name, {}
        self.conn = http.client.HTTPConnection(*server.split(":"), timeout=60)

    def request(self, method, path, body=None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            body = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                data = r.read()
                break
            except (http.client.HTTPException, ConnectionError):
                # The server closed the idle connection: once more on a new one.
                self.conn.close()
                if attempt:
                    raise
        for h in r.headers.get_all("Set-Cookie") or []:
            name, _, rest = h.partition("=")
            value = rest.split(";")[0]
            if "Max-Age=0" in rest:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return r.status, r.headers, data

    def sign_in(self, password, secret):
        status, _, page = self.request("GET", "/console/sign-in")
        csrf = re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()
        status, h, page = self.request("POST", "/console/sign-in",
                                       {"name": self.name, "password": password, "code": totp(secret), "csrf": csrf})
        if status != 303 or h.get("Location") != "/console/password":
            raise RuntimeError(f"{self.name}: sign-in answered {status} {h.get('Location')}: {page[:300]!r}")
        status, _, page = self.request("GET", "/console/password")
        csrf = re.search(rb'"X-CSRF-Token": "([^"]+)"', page).group(1).decode()
        status, h, page = self.request("POST", "/console/password",
                                       {"old": password, "new": PASSWORD, "again": PASSWORD, "csrf": csrf})
        if status != 303 or h.get("Location") != "/console/":
            raise RuntimeError(f"{self.name}: new password answered {status}: {page[:300]!r}")


# --- load -------------------------------------------------------------------------------

def fetch(op, kind, rnd, ours):
    """One page of `kind`: (latency ms, error or None)."""
    reference = rnd.choice(ours)
    surname = urllib.parse.quote(rnd.choice(COMMON))
    path = {"home": "/console/", "search-name": f"/console/search?q={surname}",
            "search-state": "/console/search?state=to-verify", "detail": f"/console/requests/{reference}",
            "pdf": f"/console/requests/{reference}/form.pdf", "certificates": f"/console/certificates?q={surname}",
            "audit": "/console/audit", "static": "/console/static/console.css"}[kind]
    t0 = time.perf_counter()
    try:
        status, _, body = op.request("GET", path)
    except (OSError, http.client.HTTPException) as e:
        return (time.perf_counter() - t0) * 1000, f"{type(e).__name__}"
    ms = (time.perf_counter() - t0) * 1000
    if status != 200:
        return ms, f"HTTP {status}"
    expected = {"pdf": (b"%PDF-", True), "detail": (reference.encode(), False), "static": (b"", False)}
    marker, at_start = expected.get(kind, (op.name.encode(), False))
    if (at_start and not body.startswith(marker)) or (not at_start and marker not in body):
        return ms, "unexpected content"
    return ms, None


def cpu_ticks(pids):
    """CPU seconds of `pids` and of their children that ended and were waited for
    (PostgreSQL's parallel workers and closed backends, the postmaster's)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def children(pid):
    """A process and every process whose parent it is (PostgreSQL's backends)."""
    out = [pid]
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(p))
            except (OSError, IndexError, ValueError):
                pass
    return out


def load(ops, ours, seconds, think, kinds=ROUND, servers=()):
    """Every operator in `ops` goes round `kinds` for `seconds`, pausing about `think`
    seconds between pages; returns {kind: [ms]}, {kind: errors}, wall seconds, and the CPU
    seconds used by this client and by each of `servers` (name, pid list function)."""
    times = {k: [] for k in set(kinds)}
    errors = {k: {} for k in set(kinds)}
    lock = threading.Lock()
    start = threading.Barrier(len(ops) + 1)
    stop_at = [0.0]

    def run(i, op):
        rnd = random.Random(i)
        mine = {k: [] for k in times}
        wrong = []
        start.wait()
        n = rnd.randrange(len(kinds))
        while time.perf_counter() < stop_at[0]:
            kind = kinds[n % len(kinds)]
            n += 1
            ms, error = fetch(op, kind, rnd, ours)
            mine[kind].append(ms)
            if error:
                wrong.append((kind, error))
            if think:
                time.sleep(rnd.uniform(0.5 * think, 1.5 * think))
        with lock:
            for k, v in mine.items():
                times[k] += v
            for k, e in wrong:
                errors[k][e] = errors[k].get(e, 0) + 1

    threads = [threading.Thread(target=run, args=(i, op)) for i, op in enumerate(ops)]
    for t in threads:
        t.start()
    # The processes listed again at the end: those started during the run count too.
    cpu0 = {name: cpu_ticks(f()) for name, f in servers}
    own0 = os.times()
    t0 = time.perf_counter()
    stop_at[0] = t0 + seconds
    start.wait()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    own1 = os.times()
    cpu = {name: cpu_ticks(f()) - cpu0[name] for name, f in servers}
    cpu["client"] = (own1.user - own0.user) + (own1.system - own0.system)
    return times, errors, wall, cpu


def pct(values, p):
    """The nearest-rank percentile."""
    v = sorted(values)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)] if v else float("nan")


def rows_of(backend, label, times, errors, wall):
    rows = []
    for k in KINDS:
        if k not in times or not times[k]:
            continue
        v = times[k]
        rows.append(dict(backend=backend, run=label, kind=k, n=len(v), rate=len(v) / wall, p50=statistics.median(v),
                         p99=pct(v, 99), max=max(v), errors=sum(errors[k].values()),
                         why=", ".join(f"{e} x{c}" for e, c in errors[k].items())))
    every = [x for k in times for x in times[k]]
    rows.append(dict(backend=backend, run=label, kind="all", n=len(every), rate=len(every) / wall,
                     p50=statistics.median(every), p99=pct(every, 99), max=max(every),
                     errors=sum(sum(e.values()) for e in errors.values()), why=""))
    return rows


# --- one backend ---------------------------------------------------------------------------

def start_ra(ra_bin, conf):
    ra = subprocess.Popen([ra_bin, "--config", conf], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = ra.stdout.readline()
    if "://" not in line:
        ra.kill()
        raise RuntimeError(f"tessera-ra did not start: {line!r}")
    return ra, line.split("://")[1].split("/")[0]


def run_backend(name, d, database, args, ra_bin, pg_pid=None):
    state = os.path.join(d, name)
    os.makedirs(state)
    conf = os.path.join(d, f"ra-{name}.toml")
    with open(conf, "w") as f:
        f.write('listen = "127.0.0.1:0"\nvalidity_days = 1095\n' + f'ca_certificate = "{state}/ca.pem"\n'
                + f'state_dir = "{state}"\n' + (f'database = "{database}"\n' if database else ""))
    t0 = time.perf_counter()
    # The first account makes and migrates the database; the others in parallel.
    accounts = [add_operator(ra_bin, conf, "op00")]
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(4) as pool:
        accounts += list(pool.map(lambda i: add_operator(ra_bin, conf, f"op{i:02d}"), range(1, args.operators)))
    holders, requests, certs, ours = dataset(args.holders, args.operators, certificate_der(d))
    if database:
        seed_postgres(database, holders, requests, certs)
    else:
        seed_sqlite(os.path.join(state, "tessera-ra.sqlite"), holders, requests, certs)
    seeded = time.perf_counter() - t0
    print(f"{name}: {len(holders)} holders, {len(requests)} requests ({len(ours)} in {OFFICE}), {len(certs)} "
          f"certificates, {len(accounts)} accounts in {seeded:.0f} s", file=sys.stderr)
    ra, server = start_ra(ra_bin, conf)
    rows, notes = [], {}
    try:
        ops = []
        for account_name, password, secret in accounts:
            op = Operator(server, account_name)
            op.sign_in(password, secret)
            ops.append(op)
        servers = [("ra", lambda: [ra.pid])]
        if pg_pid:
            servers.append(("postgres", lambda: children(pg_pid)))
        # Warm-up: every page twice (caches, prepared statements); any error stops here.
        rnd = random.Random(0)
        for kind in ROUND * 2:
            ms, error = fetch(ops[0], kind, rnd, ours)
            if error:
                raise RuntimeError(f"{name}: warm-up {kind}: {error}")
        for label, group, think in (("1 operator", ops[:1], 0), (f"{len(ops)} operators, no pause", ops, 0),
                                    (f"{len(ops)} operators, ~{args.think:g} s pause", ops, args.think)):
            print(f"{name}: {label}, {args.seconds} s", file=sys.stderr)
            times, errors, wall, cpu = load(group, ours, args.seconds, think, servers=servers)
            rows += rows_of(name, label, times, errors, wall)
            notes[label] = {k: v / wall for k, v in cpu.items()}
        # The client alone: a static asset, no database.
        times, errors, wall, cpu = load(ops, ours, min(args.seconds, 5), 0, kinds=["static"], servers=servers)
        v = times["static"]
        notes["static"] = dict(rate=len(v) / wall, p50=statistics.median(v), p99=pct(v, 99),
                               errors=sum(errors["static"].values()), cpu={k: c / wall for k, c in cpu.items()})
        notes["size"] = (os.path.getsize(os.path.join(state, "tessera-ra.sqlite")) if not database else
                         int(subprocess.run(["psql", database, "-Atc", "SELECT pg_database_size(current_database())"],
                                            capture_output=True, text=True, check=True).stdout))
    finally:
        ra.send_signal(signal.SIGINT)
        try:
            ra.wait(10)
        except subprocess.TimeoutExpired:
            ra.kill()
    return rows, notes


def goal(kind):
    return GOAL_MS.get(kind, PAGE_GOAL_MS)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--holders", type=int, default=100_000)
    ap.add_argument("--operators", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30.0, help="per run (the RA's sweeper runs every 30 s)")
    ap.add_argument("--think", type=float, default=1.0, help="mean pause between pages in the paced run")
    ap.add_argument("--ra", default=os.path.join(ROOT, "target/release/tessera-ra"))
    ap.add_argument("--only", choices=["sqlite", "postgres"])
    ap.add_argument("--keep", metavar="DIR", help="keep the databases in DIR (new) to look at afterwards")
    args = ap.parse_args()
    rows, notes = [], {}
    if args.keep:
        os.makedirs(args.keep)
    with (contextlib.nullcontext(args.keep) if args.keep else
          tempfile.TemporaryDirectory(prefix="tessera-console-bench-")) as d:
        if args.only != "postgres":
            r, notes["SQLite"] = run_backend("SQLite", d, None, args, args.ra)
            rows += r
        if args.only != "sqlite":
            url, stop = postgres(d)
            try:
                with open(os.path.join(d, "pg", "data", "postmaster.pid")) as f:
                    pg_pid = int(f.readline())
                r, notes["PostgreSQL"] = run_backend("PostgreSQL", d, url, args, args.ra, pg_pid)
                rows += r
            finally:
                stop()
    print(f"## tessera-ra console: {args.holders:,} holders, {args.operators} signed-in operators, loopback, "
          f"{args.seconds:g} s per run")
    print(f"Goal: p99 under {PAGE_GOAL_MS:g} ms for pages, under {GOAL_MS['pdf']:g} ms for the PDF.")
    print()
    print("| database | operators | page | pages | pages/s | p50 ms | p99 ms | max ms | p99 goal met | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        met = "" if r["kind"] == "all" else ("yes" if r["p99"] < goal(r["kind"]) else "**no**")
        errors = f"{r['errors']}" + (f" ({r['why']})" if r["why"] else "")
        page = "**all pages**" if r["kind"] == "all" else LABELS[r["kind"]]
        print(f"| {r['backend']} | {r['run']} | {page} | {r['n']} | {r['rate']:.1f} | {r['p50']:.1f} | "
              f"{r['p99']:.1f} | {r['max']:.0f} | {met} | {errors} |")
    print()
    print(f"CPU used (cores, of {os.cpu_count()}) during each run, and the client's own ceiling ({args.operators} "
          "threads fetching /console/static/console.css: no database, so its latency is the client's and HTTP's "
          "floor):")
    print()
    print("| database | run | client | tessera-ra | PostgreSQL |")
    print("|---|---|---|---|---|")
    for backend, n in notes.items():
        for label, cpu in n.items():
            if label in ("static", "size"):
                continue
            print(f"| {backend} | {label} | {cpu['client']:.2f} | {cpu['ra']:.2f} | "
                  f"{cpu.get('postgres', float('nan')):.2f} |".replace("nan", "-"))
        s = n["static"]
        print(f"| {backend} | static asset, {args.operators} threads: {s['rate']:.0f}/s, p50 {s['p50']:.1f} ms, "
              f"p99 {s['p99']:.1f} ms, {s['errors']} errors | {s['cpu']['client']:.2f} | {s['cpu']['ra']:.2f} | "
              f"{s['cpu'].get('postgres', float('nan')):.2f} |".replace("nan", "-"))
    print()
    print("Database size after the runs: " + ", ".join(f"{b} {n['size'] / 1e6:.0f} MB" for b, n in notes.items())
          + ".")


if __name__ == "__main__":
    main()
