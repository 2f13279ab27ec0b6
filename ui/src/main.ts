// The Devices screen: readers, cards and tokens, live. Data comes from tessera-core
// through two commands and one event; every string comes from locales/.
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { problem, renderError, setLang, t, type ErrorPayload, type Lang } from "./i18n";
import { openRenewal, openWizard, setupWizard, showOperator, wizardOpen, type LinkStart } from "./wizard";
import type { SignedIn } from "./bindings/SignedIn";

// The data's types are generated from the Rust types (ts-rs, ui/src/bindings).
import type { CertificateView as Certificate } from "./bindings/CertificateView";
import type { LiveEvent } from "./bindings/LiveEvent";
import type { Opened } from "./bindings/Opened";
import type { Reminder } from "./bindings/Reminder";
import type { Snapshot } from "./bindings/Snapshot";
import type { TokenView as Token } from "./bindings/TokenView";

/** What "devices-changed" carries (src-tauri): why, and the devices now. */
interface Changed { cause: LiveEvent; snapshot: Snapshot }

let current: Snapshot | null = null;
let lastEvent = "";
/** Renewal reminders: certificates seen on this computer, their card inserted or not. */
let reminders: Reminder[] = [];

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function renderProblems(s: Snapshot): void {
  const box = document.getElementById("problems")!;
  box.replaceChildren();
  for (const [kind, list] of [["problem", s.problems], ["notice", s.notices]] as const) {
    for (const p of list) {
      const { cause, remedy } = renderError(p);
      const item = el("div", `message ${kind}`);
      item.dataset.code = p.code;
      item.setAttribute("role", kind === "problem" ? "alert" : "status");
      item.append(el("strong", "cause", cause), el("span", "remedy", remedy));
      box.append(item);
    }
  }
}

function renderReaders(s: Snapshot): void {
  const ul = document.getElementById("readers")!;
  ul.replaceChildren();
  if (!s.readers) {
    ul.append(el("li", "empty", t("devices-readers-unavailable")));
    return;
  }
  if (s.readers.length === 0) {
    ul.append(el("li", "empty", t("devices-no-readers")));
    return;
  }
  for (const r of s.readers) {
    const li = el("li", "reader");
    li.dataset.reader = r.name;
    li.append(el("span", "reader-name", r.name));
    if (!r.card) {
      li.append(el("span", "card none", t("devices-empty-reader")));
    } else {
      const card = el("div", "card");
      card.dataset.atr = r.card.atr;
      const id = r.card.identification;
      if (id.status === "known") {
        card.append(el("span", "card-model", id.model.name), el("span", "vendor", id.model.vendor));
        if (id.model.obsolete || !id.model.renewable) card.append(el("span", "badge status-expired", t("devices-card-obsolete")));
      } else if (id.status === "unknown") {
        card.append(el("span", "card-model unknown", t("devices-card-unknown")));
        if (id.known_as) card.append(el("span", "vendor", t("devices-card-known-as", { name: id.known_as })));
      } else {
        card.append(el("span", "card-model unknown", t("devices-card-conflict", { candidates: id.candidates.map((c) => c.name).join(", ") })));
      }
      card.append(el("code", "atr", `${t("devices-atr")} ${r.card.atr}`));
      li.append(card);
    }
    ul.append(li);
  }
}

function pinBadge(tok: Token): HTMLElement {
  if (!tok.initialized) return el("span", "badge status-expired", t("token-not-initialized"));
  const cls = { ok: "status-valid", "count-low": "status-renewable", "final-try": "status-expired", locked: "status-expired", "to-be-changed": "status-renewable", "not-initialized": "status-renewable" }[tok.pin.state] ?? "status-valid";
  const b = el("span", `badge pin ${cls}`, t(`token-pin-${tok.pin.state}`));
  b.dataset.pin = tok.pin.state;
  return b;
}

function statusText(c: Certificate): string {
  const days = Math.abs(c.days_left);
  return t(`cert-status-${c.status}`, { days });
}

function certRow(c: Certificate, lang: string, tok: Token): HTMLElement {
  const row = el("div", `cert role-${c.role}`);
  row.dataset.certId = c.id;
  row.dataset.status = c.status;
  const head = el("div", "cert-head");
  head.append(el("span", "role", t(`cert-role-${c.role}`)), el("span", "cn", c.common_name));
  // A renewal leaves the old certificate (working until its end) beside its successor
  // (valid from that end): both say so instead of "renewable" and "not valid yet". Which
  // renewed which comes from the renewal journals (the lineage), not from look-alikes.
  const renewed = c.renewed;
  const successor = c.status === "not-yet-valid" && c.renews;
  const date = (d: string) => new Date(d).toLocaleDateString(lang, { year: "numeric", month: "long", day: "numeric" });
  const badge = renewed && c.status === "renewable"
    ? el("span", "badge status-valid renewed", t("cert-status-renewed", { days: Math.abs(c.days_left) }))
    : successor
      ? el("span", "badge status-valid successor", t("cert-status-successor", { date: date(c.not_before) }))
      : el("span", `badge status-${c.status}`, statusText(c));
  head.append(badge);
  // Renewable authentication and signature certificates can be renewed from here, unless
  // the card already holds their successor.
  if (renewableHere(c)) {
    const renew = el("button", "action renew", t("devices-renew"));
    renew.type = "button";
    renew.addEventListener("click", () => openRenewal(tok.uri, c.uri, afterWizard));
    head.append(renew);
  }
  row.append(head);
  const dl = el("dl");
  const add = (k: string, v: string) => { dl.append(el("dt", undefined, t(k)), el("dd", undefined, v)); };
  if (c.holder_cf) add("cert-cf", c.holder_cf);
  add("cert-valid-until", new Date(c.not_after).toLocaleDateString(lang, { year: "numeric", month: "long", day: "numeric" }));
  add("cert-issuer", c.issuer);
  add("cert-key", `${c.key.algorithm} ${c.key.curve ?? c.key.bits} · ${t(`cert-key-${c.private_key}`)}`);
  add("cert-serial", c.serial);
  row.append(dl);
  return row;
}

function renderTokens(s: Snapshot, lang: string): void {
  const box = document.getElementById("tokens")!;
  box.replaceChildren();
  if (s.tokens.length === 0) {
    box.append(el("p", "empty", t("devices-no-tokens")));
    return;
  }
  // One card, one entry: a card the middleware shows as several tokens (the OpenPGP
  // card's "User PIN" and "User PIN (sig)") is one article, with one Activate and one
  // badge per PIN, its certificates from all its tokens.
  for (const entry of s.cards) {
    const toks = entry.tokens.map((u) => s.tokens.find((x) => x.uri === u)).filter((x): x is Token => x !== undefined);
    const main = toks.find((x) => x.uri === entry.activate) ?? toks[0];
    if (!main) continue;
    const card = el("article", "token");
    card.dataset.tokenLabel = main.label;
    card.dataset.card = entry.name;
    card.dataset.tokens = String(toks.length);
    const head = el("header");
    head.append(el("h3", undefined, entry.name));
    for (const p of entry.pins) {
      const badge = pinBadge({ ...main, pin: p.pin, initialized: p.initialized });
      if (entry.pins.length > 1) badge.textContent = `${p.label}: ${badge.textContent}`;
      head.append(badge);
    }
    const meta = el("p", "meta", [main.catalog?.name ?? `${main.manufacturer} ${main.model}`, main.reader, `${t("token-serial")} ${main.serial}`].filter(Boolean).join(" · "));
    meta.title = toks.map((x) => `${x.label} — ${t("token-module")}: ${x.module}`).join("\n");
    const activate = el("button", "action activate", t("devices-activate"));
    activate.type = "button";
    activate.disabled = !main.initialized;
    activate.addEventListener("click", () => startWizard(main.uri));
    head.append(activate);
    const certs = toks.flatMap((x) => x.certificates.map((c) => ({ c, x })));
    card.append(head, meta, el("p", "count", t("devices-certificates", { count: certs.length })));
    for (const { c, x } of certs) card.append(certRow(c, lang, x));
    box.append(card);
  }
}

function renderReminders(lang: string): void {
  const box = document.getElementById("reminders")!;
  const list = document.getElementById("reminder-list")!;
  list.replaceChildren();
  box.hidden = reminders.length === 0;
  for (const r of reminders) {
    const li = el("li", r.notice <= 7 ? "reminder urgent" : "reminder");
    li.dataset.serial = r.serial;
    li.textContent = t(r.notice === 0 ? "status-expired" : "status-due", {
      role: t(`role-${r.role}`),
      holder: r.holder,
      token: r.token,
      not_after: new Date(r.not_after).toLocaleDateString(lang, { year: "numeric", month: "long", day: "numeric" }),
      days: String(r.days_left),
      present: r.present ? "yes" : "no",
    });
    list.append(li);
  }
}

async function loadReminders(): Promise<void> {
  reminders = await invoke<Reminder[]>("renewal_reminders");
  // Only the reminders: re-rendering the rest would replace what the holder is clicking.
  renderReminders(document.documentElement.lang || "it");
}

function startWizard(token: string | null, link?: LinkStart): void {
  // One choice per card: the token its activation starts on.
  const all = current?.tokens ?? [];
  const tokens = (current?.cards ?? [])
    .map((c) => ({ c, tok: all.find((x) => x.uri === c.activate) }))
    .filter(({ tok }) => tok?.initialized)
    .map(({ c, tok }) => ({ uri: tok!.uri, label: c.tokens.length > 1 ? c.name : tok!.label }));
  // Back on the Devices screen: a fresh listing shows what the activation wrote.
  openWizard(tokens, token, afterWizard, link);
}

/** Back from the wizard: a fresh listing, then the links that came meanwhile. */
function afterWizard(): void {
  void refresh().then(() => {
    while (waiting.length > 0 && !wizardOpen()) onLink(waiting.shift()!);
  });
}

/** Links that came while the wizard was open, oldest first: they open when it closes. */
const waiting: Opened[] = [];

function linkMessage(e: ErrorPayload): void {
  const box = document.getElementById("link-message")!;
  box.replaceChildren(problem(e));
}

/** Open what a `tessera://` link asks (from the command line or a second start), or say
 * why it was refused; never in the middle of another operation. */
function onLink(o: Opened): void {
  if (wizardOpen()) {
    waiting.push(o);
    return;
  }
  document.getElementById("link-message")!.replaceChildren();
  if (o.error || !o.link) {
    linkMessage(o.error ?? { code: "link-refused", params: {} });
    return;
  }
  const link = o.link;
  if (link.action === "activate" || link.action === "counter") {
    startWizard(null, { reference: link.reference, mode: link.action === "counter" ? "operator" : "holder" });
    return;
  }
  // Serials compared as numbers (without colons, case, or a leading zero octet), among
  // the certificates the Renew button would renew: exactly one, or the link says why not.
  const plain = (serial: string) => serial.replace(/:/g, "").toLowerCase().replace(/^0+/, "");
  const found = (current?.tokens ?? []).flatMap((tok) =>
    tok.certificates.filter((c) => plain(c.serial) === plain(link.serial)).map((c) => ({ tok, c })));
  const renewable = found.filter(({ c }) => renewableHere(c));
  if (renewable.length === 1) {
    openRenewal(renewable[0].tok.uri, renewable[0].c.uri, afterWizard);
    return;
  }
  const code = found.length === 0 ? "link-certificate-absent" : "link-certificate-not-renewable";
  linkMessage({ code, params: { serial: link.serial } });
}

/** Whether the Devices screen offers Renew for `c`. */
function renewableHere(c: Certificate): boolean {
  return c.status === "renewable" && !c.renewed && (c.role === "signature" || c.role === "authentication") && c.private_key !== "missing";
}

async function takeLinks(): Promise<void> {
  for (const o of await invoke<Opened[]>("take_links")) onLink(o);
}

async function refresh(): Promise<void> {
  current = await invoke<Snapshot>("devices_snapshot");
  render();
  await loadReminders();
}

function render(): void {
  if (!current) return;
  const lang = document.documentElement.lang || "it";
  renderProblems(current);
  renderReaders(current);
  renderTokens(current, lang);
  renderReminders(lang);
  const time = new Date(current.taken_at).toLocaleTimeString(lang);
  document.getElementById("status")!.textContent = [t("devices-updated", { time }), lastEvent].filter(Boolean).join(" · ");
  document.body.dataset.ready = "true";
}

function describe(cause: LiveEvent): string {
  if (cause.kind !== "devices") return "";
  const e = cause.events[cause.events.length - 1];
  return e ? t(`event-${e.event}`, { reader: e.reader }) : "";
}

async function start(): Promise<void> {
  const buttons = [...document.querySelectorAll<HTMLButtonElement>("button[data-lang]")];
  const choose = (lang: Lang) => {
    setLang(lang);
    for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
    render();
  };
  const saved = localStorage.getItem("tessera.lang") as Lang | null;
  choose(saved ?? (await invoke<Lang>("default_language")));
  for (const b of buttons) {
    b.addEventListener("click", () => {
      localStorage.setItem("tessera.lang", b.dataset.lang!);
      choose(b.dataset.lang as Lang);
    });
  }
  document.getElementById("status")!.textContent = t("devices-loading");
  await setupWizard();
  // Who is signed in at the counter; the window forgets a session left idle, so this is
  // looked at again every half minute.
  const operator = async () => showOperator(await invoke<SignedIn | null>("operator_signed_in").catch(() => null));
  await operator();
  window.setInterval(() => void operator(), 30_000);
  document.getElementById("new-activation")!.addEventListener("click", () => startWizard(null));
  await listen<Changed>("devices-changed", (ev) => {
    current = ev.payload.snapshot;
    lastEvent = describe(ev.payload.cause) || lastEvent;
    render();
    void loadReminders();
  });
  current = await invoke<Snapshot>("devices_snapshot");
  render();
  await loadReminders();
  // The link the app was started with, and those clicked while it runs.
  await listen("links-waiting", () => void takeLinks());
  await takeLinks();
}

start();
