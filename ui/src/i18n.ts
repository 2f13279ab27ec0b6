// Fluent messages from ../../locales (the same files the Rust side renders errors with).
import { FluentBundle, FluentResource, type FluentVariable } from "@fluent/bundle";
import it from "../../locales/it/tessera.ftl?raw";
import en from "../../locales/en/tessera.ftl?raw";
import type { ErrorPayload } from "./bindings/ErrorPayload";

export type Lang = "it" | "en";
const sources: Record<Lang, string> = { it, en };
let bundle = make("it");

function make(lang: Lang): FluentBundle {
  const b = new FluentBundle(lang, { useIsolating: false });
  b.addResource(new FluentResource(sources[lang]));
  return b;
}

export function setLang(lang: Lang): void {
  bundle = make(lang);
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll<HTMLElement>("[data-l10n]")) {
    el.textContent = t(el.dataset.l10n!);
  }
}

export function t(id: string, args?: Record<string, FluentVariable>, attribute?: string): string {
  const msg = bundle.getMessage(id);
  const pattern = attribute ? msg?.attributes[attribute] : msg?.value;
  if (!pattern) return id;
  // With an errors array Fluent renders a missing argument as its name instead of throwing.
  const errors: Error[] = [];
  return bundle.formatPattern(pattern, args, errors);
}

export type { ErrorPayload };

/** An error as cause + remedy, from its stable code; never from a message string. */
export function renderError(e: ErrorPayload): { cause: string; remedy: string } {
  const id = `error-${e.code}`;
  if (!bundle.getMessage(id)) {
    return { cause: t("error-unknown", { code: e.code }), remedy: t("error-unknown", { code: e.code }, "remedy") };
  }
  return { cause: t(id, e.params), remedy: t(id, e.params, "remedy") };
}

/** An error as the screens show it: its cause and remedy in an alert, with its code. */
export function problem(e: ErrorPayload): HTMLElement {
  const { cause, remedy } = renderError(e);
  const box = document.createElement("div");
  box.className = "message problem";
  box.dataset.code = e.code;
  box.setAttribute("role", "alert");
  const strong = document.createElement("strong");
  strong.className = "cause";
  strong.textContent = cause;
  const span = document.createElement("span");
  span.className = "remedy";
  span.textContent = remedy;
  box.append(strong, span);
  return box;
}
