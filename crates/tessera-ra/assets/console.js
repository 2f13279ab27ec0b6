// Tessera console: no inline script anywhere (the Content-Security-Policy forbids it).
// After an htmx swap, focus goes to what changed, so a screen reader reads it.
document.addEventListener("htmx:afterSwap", (e) => {
  const target = e.detail.target;
  const first = target.querySelector("[role=alert], [role=status], h1, h2");
  if (first) {
    if (!first.hasAttribute("tabindex")) first.setAttribute("tabindex", "-1");
    first.focus();
  }
});
