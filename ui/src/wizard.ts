// The New activation wizard. The flow runs in Rust (tessera-flows, the same code as
// `tessera activate`); it asks its questions through "flow-question" events, which this
// file renders as one form at a time, and reports its steps through "flow-progress".
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { problem, renderError, t, type ErrorPayload } from "./i18n";

// The flow's types are generated from the Rust types (ts-rs, ui/src/bindings).
import type { CfCheck } from "./bindings/CfCheck";
import type { DiagnosticCheck } from "./bindings/DiagnosticCheck";
import type { Outcome } from "./bindings/Outcome";
import type { Progress } from "./bindings/Progress";
import type { Question } from "./bindings/Question";
import type { RenewalOutcome } from "./bindings/RenewalOutcome";
import type { SignedIn } from "./bindings/SignedIn";
import type { Step } from "./bindings/Step";

/** What "flow-question" carries (src-tauri): the question, and how to answer it. */
interface Asked { id: number; question: Question; confirm: boolean }
export interface TokenChoice { uri: string; label: string }

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(l10n: string, cls: string, onClick: () => void): HTMLButtonElement {
  const b = el("button", cls, t(l10n));
  b.type = "button";
  b.dataset.action = l10n;
  b.addEventListener("click", onClick);
  return b;
}

function stepKey(s: Step): string {
  return "role" in s ? `${s.step}:${s.role}` : s.step;
}

function stepText(s: Step): string {
  const role = "role" in s ? t(`role-${s.role}`) : "";
  return t(`step-${s.step}`, { role });
}

let root: HTMLElement;
let form: HTMLElement;
let steps: HTMLOListElement;
let notices: HTMLElement;
let report: HTMLElement;
let stepState = new Map<string, { step: Step; state: string }>();
let countdown: number | undefined;
let onClose: () => void = () => {};

function renderSteps(): void {
  steps.replaceChildren();
  for (const [key, { step, state }] of stepState) {
    const li = el("li", `step ${state}`);
    li.dataset.step = key;
    li.dataset.state = state;
    li.append(el("span", "mark", { started: "…", done: "✓", resumed: "✓", failed: "✗" }[state] ?? ""), el("span", undefined, stepText(step)));
    if (state === "resumed") li.append(el("span", "hint", t("progress-resumed")));
    steps.append(li);
  }
}

function notice(text: string, remedy?: string): void {
  const m = el("div", "message notice");
  m.setAttribute("role", "status");
  m.append(el("strong", "cause", text));
  if (remedy) m.append(el("span", "remedy", remedy));
  notices.replaceChildren(m);
}

/** Renewal: the checks made before any PIN, kept on screen while the flow goes on. */
function renderDiagnostics(checks: DiagnosticCheck[]): void {
  const count = (v: string) => checks.filter((c) => c.verdict === v).length;
  const box = el("details", "report");
  box.open = count("warn") + count("fail") > 0;
  box.append(el("summary", undefined, t("wizard-diagnostics-summary", { passed: count("pass"), warnings: count("warn"), failures: count("fail") })));
  const list = el("ul", "checks");
  for (const c of checks) {
    const li = el("li", `check ${c.verdict}`);
    li.dataset.check = c.check;
    li.dataset.verdict = c.verdict;
    li.append(el("span", "mark", { pass: "✓", warn: "!", fail: "✗" }[c.verdict]), el("span", undefined, t(c.code, c.params)));
    list.append(li);
  }
  box.append(list);
  report.replaceChildren(box);
}

function onProgress(p: Progress): void {
  if (p.event === "diagnosed") {
    renderDiagnostics(p.checks);
    return;
  }
  if (p.event === "notice") {
    if (p.code.startsWith("error-")) {
      const r = renderError({ code: p.code.slice(6), params: p.params });
      notice(r.cause, r.remedy);
    } else {
      notice(t(p.code, p.params));
    }
    return;
  }
  stepState.set(stepKey(p.step), { step: p.step, state: p.event });
  renderSteps();
  if (p.event === "started") {
    form.replaceChildren(el("p", "working", stepText(p.step)));
    form.dataset.question = "";
  }
}

function answer(id: number, value: string | null): void {
  window.clearInterval(countdown);
  form.replaceChildren(el("p", "working", t("wizard-working")));
  form.dataset.question = "";
  void invoke("flow_answer", { id, answer: value });
}

function field(label: string, type: string, name: string): [HTMLLabelElement, HTMLInputElement] {
  const l = el("label", "field");
  const input = el("input");
  input.type = type;
  input.name = name;
  input.autocomplete = "off";
  input.spellcheck = false;
  l.append(el("span", undefined, label), input);
  return [l, input];
}

function pinNote(q: Extract<Question, { kind: "pin" }>): string {
  const parts = [];
  if (q.state) parts.push(t(`token-pin-${q.state}`));
  if (q.tries_left !== null) parts.push(t("token-pin-tries", { tries: q.tries_left }));
  return parts.join(" · ");
}

/** A choice that can cost something: its title and what it means, "stop" focused first.
 * `prefix` names the strings and actions (`<prefix>-title`, `-go`, `-stop`). */
function warningChoice(a: Asked, f: HTMLFormElement, prefix: string, said: string): void {
  f.append(el("h3", undefined, t(`${prefix}-title`)), el("p", "message problem", said));
  const go = button(`${prefix}-go`, "primary", () => answer(a.id, "yes"));
  const stop = button(`${prefix}-stop`, "secondary", () => answer(a.id, "no"));
  const buttons = el("div", "buttons");
  buttons.append(stop, go);
  f.append(buttons);
  form.append(f);
  stop.focus();
}

/** "Send again" (an empty answer), enabled once `after` seconds have passed, counted down. */
function resendButton(a: Asked, after: number, l10n = "wizard-resend"): HTMLButtonElement {
  const resend = button(l10n, "secondary resend", () => answer(a.id, ""));
  resend.dataset.action = "wizard-resend";
  let left = after;
  const tick = () => {
    resend.disabled = left > 0;
    resend.textContent = left > 0 ? t(`${l10n}-in`, { seconds: left }) : t(l10n);
    left -= 1;
  };
  tick();
  countdown = window.setInterval(tick, 1000);
  return resend;
}

function onQuestion(a: Asked): void {
  const q = a.question;
  form.replaceChildren();
  form.dataset.question = q.kind;
  const f = el("form", "question");
  const cancel = button("wizard-cancel", "secondary", () => answer(a.id, null));
  if (a.confirm && (q.kind === "confirm-request" || q.kind === "confirm-counter-request")) {
    // Whose request it is, before any key is made (at the counter by reference, before
    // the RA arms it: with the reference and the office).
    const counter = q.kind === "confirm-counter-request";
    f.append(el("h3", undefined, t(counter ? "wizard-counter-confirm-title" : "wizard-confirm-title")));
    const dl = el("dl", "summary");
    const add = (k: string, v: string) => dl.append(el("dt", undefined, t(k)), el("dd", undefined, v));
    if (counter) add("wizard-reference", q.reference);
    add("wizard-holder", q.holder);
    if (counter) add("wizard-office", q.office);
    add("wizard-profile", t(`profile-${q.profile.replace("+", "-")}`));
    add("wizard-token", q.token);
    f.append(dl, el("p", "hint", t("wizard-confirm-hint")));
    const go = button("wizard-confirm", "primary", () => answer(a.id, "yes"));
    f.append(el("div", "buttons"));
    f.lastElementChild!.append(cancel, go);
    form.append(f);
    go.focus();
    return;
  }
  if (a.confirm && q.kind === "sign-renewal-form") {
    // What is signed is shown whole: the general terms, then the form itself.
    f.append(el("h3", undefined, t("wizard-renewal-form-title")));
    f.append(el("h4", undefined, t("renewal-contract-heading", { version: q.contract_version })));
    f.append(el("pre", "document contract", q.contract));
    f.append(el("h4", undefined, t("renewal-form-heading")));
    f.append(el("pre", "document renewal-form", q.form));
    if (q.policy === "approval") f.append(el("p", "hint", t("renewal-policy-approval")));
    const go = button("wizard-renewal-form-sign", "primary", () => answer(a.id, "yes"));
    const buttons = el("div", "buttons");
    buttons.append(cancel, go);
    f.append(buttons);
    form.append(f);
    go.focus();
    return;
  }
  if (q.kind === "contacts") {
    renderContacts(a, q, f, cancel);
    return;
  }
  if (a.confirm && q.kind === "confirm-overwrite") {
    // A fixed-slot card: the holder's explicit choice before anything is signed.
    const said = t("ask-confirm-overwrite", { token: q.token, certificate: q.certificate }).replace(/ \[[^\]]*\]$/, "");
    warningChoice(a, f, "wizard-overwrite", said);
    return;
  }
  if (a.confirm && q.kind === "confirm-final-try") {
    warningChoice(a, f, "wizard-final-try", t("ask-confirm-final-try", { token: q.token }));
    return;
  }
  const secret = q.kind !== "tax-code" && q.kind !== "operator-name";
  const text =
    q.kind === "pin" ? t(q.pin === "user" ? "wizard-pin-user" : "wizard-pin-so")
    : q.kind === "contact-code" ? t("ask-contact-code", { channel: q.channel, to: q.to })
    : q.kind === "renewal-code" ? t("wizard-renewal-code", { to: q.to })
    : t(`wizard-ask-${q.kind}`);
  const [label, input] = field(text, secret ? "password" : "text", q.kind);
  f.append(label);
  const ok = el("button", "primary", t("wizard-next"));
  ok.type = "submit";
  ok.dataset.action = "wizard-next";
  if (q.kind === "pin") {
    f.append(el("p", "hint pin-state", pinNote(q)));
    input.inputMode = "numeric";
  }
  if (q.kind === "contact-code") {
    input.inputMode = "numeric";
    input.maxLength = 6;
  }
  if (q.kind === "renewal-code") {
    // The code sent when the renewal was authorised (a secret, like the activation code);
    // another may be asked for.
    f.append(el("p", "hint", t("wizard-renewal-code-hint")), resendButton(a, q.resend_after, "wizard-resend-code"));
  }
  if (q.kind === "otp") {
    input.inputMode = "numeric";
    input.maxLength = 6;
    f.append(el("p", "hint", t("wizard-otp-sent", { mobile: q.mobile })));
    f.append(resendButton(a, q.resend_after));
  }
  if (q.kind === "tax-code") {
    const status = el("p", "hint cf-status");
    status.setAttribute("aria-live", "polite");
    f.append(status);
    input.maxLength = 16;
    input.addEventListener("input", async () => {
      input.value = input.value.toUpperCase();
      if (input.value.length < 16) {
        status.replaceChildren();
        delete status.dataset.status;
        return;
      }
      const check = await invoke<CfCheck>("check_tax_code", { code: input.value });
      status.dataset.status = check.status;
      if (check.status === "valid") {
        status.replaceChildren(t("wizard-cf-valid"));
      } else if (check.status === "wrong-check-letter") {
        const fixed = check.code.slice(0, 15) + check.expected;
        const fix = button("wizard-cf-fix", "link", () => { input.value = fixed; input.dispatchEvent(new Event("input")); });
        fix.textContent = t("wizard-cf-fix", { code: fixed });
        status.replaceChildren(t("notice-cf-check-letter", { code: check.code, expected: check.expected }), " ", fix);
      } else {
        // Not a tax code's form: a passport number goes as it is.
        status.replaceChildren(t("wizard-cf-passport"));
      }
    });
  }
  const buttons = el("div", "buttons");
  buttons.append(cancel, ok);
  f.append(buttons);
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    if (input.value.trim() !== "") answer(a.id, input.value);
  });
  form.append(f);
  input.focus();
}

/** The holder's contacts as registered (masked); new ones typed are signed with the card
 * and confirmed by the codes sent to them. A contact another person has must change. */
function renderContacts(a: Asked, q: Extract<Question, { kind: "contacts" }>, f: HTMLFormElement, cancel: HTMLButtonElement): void {
  const none = t("renewal-contact-none");
  f.append(el("h3", undefined, t("wizard-contacts-title")));
  f.append(el("p", "current-contacts", t("wizard-contacts-current", { mobile: q.mobile ?? none, email: q.email ?? none })));
  if (q.conflict) f.append(el("p", "message problem conflict", t("diag-ra-renewal-contact-conflict", { field: q.conflict })));
  f.append(el("p", "hint", t("wizard-contacts-hint")));
  const [mobileLabel, mobile] = field(t("wizard-contacts-mobile"), "tel", "mobile");
  mobile.placeholder = "+39 333 1234567";
  f.append(mobileLabel);
  let email: HTMLInputElement | null = null;
  if (q.email_editable) {
    const [emailLabel, input] = field(t("wizard-contacts-email"), "email", "email");
    f.append(emailLabel);
    email = input;
  } else {
    f.append(el("p", "hint", t("wizard-contacts-email-fixed")));
  }
  const keep = button("wizard-contacts-keep", "secondary", () => answer(a.id, ""));
  keep.disabled = q.conflict !== null && q.conflict !== undefined;
  const change = el("button", "primary", t("wizard-contacts-change"));
  change.type = "submit";
  change.dataset.action = "wizard-contacts-change";
  const buttons = el("div", "buttons");
  buttons.append(cancel, keep, change);
  f.append(buttons);
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    const m = mobile.value.trim();
    const em = email?.value.trim() ?? "";
    if (m === "" && em === "") return;
    answer(a.id, JSON.stringify({ mobile: m || null, email: em || null }));
  });
  form.append(f);
  (q.conflict === "email" && email ? email : mobile).focus();
}

function renderResult(o: Outcome): void {
  window.clearInterval(countdown);
  form.dataset.question = "";
  const box = el("div", "result");
  box.dataset.result = "done";
  const holder = o.holder ? `${o.holder.given_name} ${o.holder.surname}` : o.reference;
  box.append(el("h3", undefined, t("activation-done", { reference: o.reference, holder })));
  // Each certificate as the Devices screen shows it: role, holder, tax code, validity.
  const lang = document.documentElement.lang;
  const date = (d: string) => new Date(d).toLocaleDateString(lang, { year: "numeric", month: "long", day: "numeric" });
  for (const c of o.certificates) {
    const row = el("div", `cert role-${c.role}`);
    row.dataset.role = c.role;
    const head = el("div", "cert-head");
    head.append(el("span", "role", t(`cert-role-${c.role}`)), el("span", "cn", c.common_name));
    row.append(head);
    const dl = el("dl");
    const add = (k: string, v: string) => { dl.append(el("dt", undefined, t(k)), el("dd", undefined, v)); };
    if (c.holder_cf) add("cert-cf", c.holder_cf);
    add("cert-valid-from", date(c.not_before));
    add("cert-valid-until", date(c.not_after));
    add("cert-serial", c.serial);
    row.append(dl);
    if (c.suspended) row.append(el("p", "message notice", t("activation-suspended")));
    box.append(row);
  }
  box.append(el("p", "hint", t("activation-next")));
  const close = button("wizard-close", "primary", () => closeWizard());
  const buttons = el("div", "buttons");
  buttons.append(close);
  box.append(buttons);
  form.replaceChildren(box);
  close.focus();
}

function renderFailure(e: ErrorPayload, retry: () => void): void {
  window.clearInterval(countdown);
  form.dataset.question = "";
  const box = problem(e);
  const saved = el("p", "hint saved");
  saved.setAttribute("aria-live", "polite");
  const save = button("wizard-save-error-file", "secondary", async () => {
    try {
      const path = await invoke<string>("support_bundle", { lang: document.documentElement.lang, shown: e });
      saved.textContent = t("wizard-error-file-saved", { path });
      saved.dataset.path = path;
    } catch (err) {
      saved.textContent = renderError(err as ErrorPayload).cause;
    }
  });
  const buttons = el("div", "buttons");
  buttons.append(save, button("wizard-close", "secondary", () => closeWizard()), button("wizard-retry", "primary", retry));
  form.replaceChildren(el("h3", undefined, t("wizard-failed-title")), box, buttons, saved);
}

function closeWizard(): void {
  window.clearInterval(countdown);
  root.hidden = true;
  document.getElementById("devices")!.hidden = false;
  onClose();
}

/** Who is signed in at the counter, in the header (with the sign-out), or nobody. */
let shownOperator = "";

export function showOperator(who: SignedIn | null): void {
  const bar = document.getElementById("operator-bar");
  if (!bar) return;
  // Rebuilt only when who is signed in changes: a screen reader announces it once, and
  // the sign-out button keeps its focus.
  const key = who ? `${who.name}\u0000${who.office}\u0000${document.documentElement.lang}` : "";
  if (key === shownOperator && bar.childElementCount > 0 === (who !== null)) return;
  shownOperator = key;
  bar.hidden = who === null;
  bar.replaceChildren();
  if (!who) return;
  bar.dataset.operator = who.name;
  const out = button("operator-sign-out", "secondary small", async () => {
    await invoke("operator_sign_out").catch(() => undefined);
    showOperator(null);
  });
  bar.append(el("span", "who", t("operator-signed-in", { name: who.name, office: who.office })), out);
}

/** At the counter the operator signs in first (their console account: name, password,
 * one-time code), unless still signed in; then `go`. */
async function operatorFirst(go: () => void): Promise<void> {
  const who = await invoke<SignedIn | null>("operator_signed_in").catch(() => null);
  showOperator(who);
  if (who) {
    go();
    return;
  }
  renderSignIn(go, null, "");
}

function renderSignIn(go: () => void, error: ErrorPayload | null, typedName: string): void {
  window.clearInterval(countdown);
  form.dataset.question = "operator-sign-in";
  const f = el("form", "question sign-in");
  f.append(el("h3", undefined, t("wizard-sign-in-title")), el("p", "hint", t("wizard-sign-in-hint")));
  if (error) f.append(problem(error));
  const [nameLabel, name] = field(t("wizard-ask-operator-name"), "text", "operator-name");
  name.autocomplete = "username";
  name.value = typedName;
  const [passwordLabel, password] = field(t("wizard-ask-operator-password"), "password", "operator-password");
  const [codeLabel, code] = field(t("wizard-ask-operator-code"), "text", "operator-code");
  code.inputMode = "numeric";
  code.maxLength = 6;
  code.autocomplete = "one-time-code";
  const ok = el("button", "primary", t("wizard-sign-in"));
  ok.type = "submit";
  ok.dataset.action = "wizard-sign-in";
  const buttons = el("div", "buttons");
  buttons.append(button("wizard-cancel", "secondary", () => closeWizard()), ok);
  f.append(nameLabel, passwordLabel, codeLabel, buttons);
  f.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!name.value.trim() || !password.value || !code.value.trim()) return;
    const typed = name.value.trim();
    const credentials = { name: typed, password: password.value, code: code.value.trim() };
    password.value = "";
    form.replaceChildren(el("p", "working", t("wizard-working")));
    try {
      showOperator(await invoke<SignedIn>("operator_sign_in", credentials));
      go();
    } catch (err) {
      const payload = (err as ErrorPayload).code ? (err as ErrorPayload) : { code: "unknown", params: { code: String(err) } };
      renderSignIn(go, payload, typed);
    }
  });
  form.replaceChildren(f);
  (typedName ? password : name).focus();
}

async function run(token: string | null, mode: string, reference: string | null): Promise<void> {
  stepState = new Map();
  renderSteps();
  notices.replaceChildren();
  report.replaceChildren();
  form.replaceChildren(el("p", "working", t("wizard-working")));
  try {
    const outcome = await invoke<Outcome>("activation_start", { start: { token, mode, reference } });
    renderResult(outcome);
  } catch (e) {
    const err = (e as ErrorPayload).code ? (e as ErrorPayload) : { code: "unknown", params: { code: String(e) } };
    if (mode === "operator") {
      // The RA ended the session (or the window forgot it, idle): signed out; retrying
      // signs in again and resumes the activation from its journal.
      const who = await invoke<SignedIn | null>("operator_signed_in").catch(() => null);
      showOperator(who);
      renderFailure(err, () => void operatorFirst(() => void run(token, mode, reference)));
      return;
    }
    renderFailure(err, () => void run(token, mode, reference));
  }
}

function setTitle(l10n: string): void {
  const head = root.querySelector("h2")!;
  head.dataset.l10n = l10n;
  head.textContent = t(l10n);
}

function renderRenewed(o: RenewalOutcome): void {
  form.dataset.question = "";
  const box = el("div", "result");
  box.dataset.result = "renewed";
  const date = (d: string) =>
    new Date(d).toLocaleDateString(document.documentElement.lang, { year: "numeric", month: "long", day: "numeric" });
  box.append(el("h3", undefined, t("renewal-done", { subject: o.subject, not_before: date(o.not_before), not_after: date(o.not_after) })));
  box.append(el("p", "meta", t(o.retired ? "renewal-retired" : "renewal-kept", { serial: o.replaced })));
  const close = button("wizard-close", "primary", () => closeWizard());
  const buttons = el("div", "buttons");
  buttons.append(close);
  box.append(buttons);
  form.replaceChildren(box);
  close.focus();
}

async function runRenewal(token: string, certificate: string): Promise<void> {
  stepState = new Map();
  renderSteps();
  notices.replaceChildren();
  report.replaceChildren();
  form.replaceChildren(el("p", "working", t("wizard-working")));
  try {
    renderRenewed(await invoke<RenewalOutcome>("renewal_start", { start: { token, certificate } }));
  } catch (e) {
    const err = (e as ErrorPayload).code ? (e as ErrorPayload) : { code: "unknown", params: { code: String(e) } };
    renderFailure(err, () => void runRenewal(token, certificate));
  }
}

/** Renew `certificate` on `token`: the flow's diagnostics, the PIN, the re-key, the result. */
export function openRenewal(token: string, certificate: string, closed: () => void): void {
  onClose = closed;
  document.getElementById("devices")!.hidden = true;
  root.hidden = false;
  setTitle("renewal-title");
  void runRenewal(token, certificate);
}

/** What a `tessera://` link asked: the request, and at home or at the counter. */
export interface LinkStart { reference: string; mode: "holder" | "operator" }

/** Whether the wizard is open (a link waits for it to close). */
export function wizardOpen(): boolean {
  return root !== undefined && !root.hidden;
}

/** Open the wizard on `token` (or let the holder pick one of `tokens`), for the request a
 * link named if any. */
export function openWizard(tokens: TokenChoice[], token: string | null, closed: () => void, link?: LinkStart): void {
  onClose = closed;
  setTitle("wizard-title");
  document.getElementById("devices")!.hidden = true;
  root.hidden = false;
  stepState = new Map();
  renderSteps();
  notices.replaceChildren();
  report.replaceChildren();
  const f = el("form", "question start");
  form.dataset.question = "start";
  f.append(el("h3", undefined, t("wizard-start-title")));
  if (link) {
    const from = el("p", "link-reference", t("wizard-link-reference", { reference: link.reference }));
    from.dataset.linkReference = link.reference;
    f.append(from);
  }
  const choose = el("fieldset", "tokens");
  choose.append(el("legend", undefined, t("wizard-token")));
  if (tokens.length === 0) choose.append(el("p", "empty", t("devices-no-tokens")));
  for (const [i, tok] of tokens.entries()) {
    const l = el("label", "choice");
    const r = el("input");
    r.type = "radio";
    r.name = "token";
    r.value = tok.uri;
    r.checked = token ? tok.uri === token : i === 0;
    l.append(r, el("span", undefined, tok.label));
    choose.append(l);
  }
  const mode = el("fieldset", "modes");
  mode.append(el("legend", undefined, t("wizard-mode")));
  for (const m of ["holder", "operator"]) {
    const l = el("label", "choice");
    const r = el("input");
    r.type = "radio";
    r.name = "mode";
    r.value = m;
    r.checked = m === (link?.mode ?? "holder");
    l.append(r, el("span", undefined, t(`wizard-mode-${m}`)), el("span", "hint", t(`wizard-mode-${m}-hint`)));
    mode.append(l);
  }
  const buttons = el("div", "buttons");
  const next = el("button", "primary", t("wizard-next"));
  next.type = "submit";
  next.dataset.action = "wizard-next";
  next.disabled = tokens.length === 0;
  buttons.append(button("wizard-cancel", "secondary", () => closeWizard()), next);
  f.append(choose, mode, buttons);
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    const data = new FormData(f);
    const chosen = String(data.get("token") ?? "") || null;
    const mode = String(data.get("mode") ?? "holder");
    const go = () => void run(chosen, mode, link?.reference ?? null);
    if (mode === "operator") void operatorFirst(go);
    else go();
  });
  form.replaceChildren(f);
  next.focus();
}

/** Build the wizard's frame and subscribe to the flow's events (once). */
export async function setupWizard(): Promise<void> {
  root = document.getElementById("wizard")!;
  root.replaceChildren();
  const head = el("h2", undefined, t("wizard-title"));
  head.dataset.l10n = "wizard-title";
  steps = el("ol", "steps");
  steps.setAttribute("aria-label", t("wizard-progress"));
  notices = el("div", "notices");
  report = el("div", "diagnostics");
  form = el("div", "form");
  const body = el("div", "wizard-body");
  const side = el("aside", "panel");
  side.append(steps);
  const main = el("div", "panel");
  main.append(report, notices, form);
  body.append(main, side);
  root.append(head, body);
  await listen<Asked>("flow-question", (ev) => onQuestion(ev.payload));
  await listen<Progress>("flow-progress", (ev) => onProgress(ev.payload));
}
