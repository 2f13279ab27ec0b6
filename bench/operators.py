"""Operator accounts for the benchmarks, as a new operator gets one: made with
`tessera-ra operator add`, their own password chosen at the console's first sign-in (its
forms over HTTP), one-time codes from oathtool. A new account for every sign-in, so that
no run waits for a one-time code not used yet. Their setting-up is outside every timing.
"""
import http.client
import json
import subprocess
import time
import urllib.parse

PASSWORD = "Banco di prova 2026"
OFFICE = "BENCH"
_made = [0]


def _code(secret, step):
    out = subprocess.run(["oathtool", "--totp", "-b", secret, "-N", f"@{step * 30 + 15}"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def sign_in_answers(ra_bin, conf, server):
    """Name, password and one-time code of a new account of OFFICE, for `--stdin`."""
    _made[0] += 1
    name = f"bench.{_made[0]}"
    out = subprocess.run([ra_bin, "operator", "add", "--config", conf, "--name", name, "--office", OFFICE,
                          "--role", "operator", "--json"], capture_output=True, text=True, check=True)
    made = json.loads(out.stdout)
    secret = made["otpauth"].split("secret=")[1].split("&")[0]
    step = int(time.time()) // 30
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    pre = "p" * 43
    conn = http.client.HTTPConnection(server)
    body = urllib.parse.urlencode({"csrf": pre, "name": name, "password": made["password"], "code": _code(secret, step)})
    conn.request("POST", "/console/sign-in", body, dict(form, Cookie=f"tessera_console_pre={pre}"))
    answer = conn.getresponse()
    answer.read()
    cookie = next(v.split(";")[0] for k, v in answer.getheaders()
                  if k.lower() == "set-cookie" and v.startswith("tessera_console="))
    conn.request("GET", "/console/password", headers={"Cookie": cookie})
    page = conn.getresponse().read().decode()
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    body = urllib.parse.urlencode({"csrf": csrf, "old": made["password"], "new": PASSWORD, "again": PASSWORD})
    conn.request("POST", "/console/password", body, dict(form, Cookie=cookie))
    answer = conn.getresponse()
    answer.read()
    assert answer.status < 400, f"the new password was not taken: {answer.status}"
    return [name, PASSWORD, _code(secret, step + 1)]
