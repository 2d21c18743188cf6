// The console's own behaviour, kept out of the pages: their Content-Security-Policy runs no inline
// script or handler attribute (api/staff_http.py). A button marked data-print prints the page; a
// link marked data-back goes back in the history, and follows its href where there is none.
document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  if (target?.closest("[data-print]")) {
    window.print();
  } else if (target?.closest("a[data-back]") && window.history.length > 1) {
    event.preventDefault();
    window.history.back();
  }
});

// A card field a barcode scanner types into (data-scan) has what it holds selected whenever it gets
// the focus, by autofocus on the page's load too: the next scan replaces the number searched last
// rather than being typed onto its end, and the scanner's Enter sends the search for the new card.
const selectScanned = (field) => {
  if (field instanceof HTMLInputElement && field.matches("[data-scan]")) field.select();
};
document.addEventListener("focusin", (event) => selectScanned(event.target));
selectScanned(document.activeElement);

// A refused form points at what to put right: the refusal put in its message area names the fields
// refused (data-fields, as the services name them: `phone`, `compensation.points`), and each of the
// form's fields of that name (or of its last part, or its first: a line of a box's value) is marked invalid, described by the message area (so a screen reader
// reads the reason with the field), and the first takes the focus. The message itself is announced
// by the area, a live region, once. Each submit starts unmarked: a form accepted leaves nothing
// marked, a refusal naming another field marks that one only.
const REFUSED = "data-refused-described";
const unmark = (form) => {
  for (const field of form.querySelectorAll(`[${REFUSED}]`)) {
    const before = field.getAttribute(REFUSED);
    if (before) field.setAttribute("aria-describedby", before); else field.removeAttribute("aria-describedby");
    field.removeAttribute(REFUSED);
    field.removeAttribute("aria-invalid");
  }
};
const formOf = (detail) => (detail?.requestConfig?.elt ?? detail?.elt)?.closest?.("form");
document.addEventListener("htmx:beforeRequest", (event) => {
  const form = formOf(event.detail);
  if (form instanceof HTMLFormElement) unmark(form);
});
document.addEventListener("htmx:afterSwap", (event) => {
  const form = formOf(event.detail), area = event.detail?.target;
  if (!(form instanceof HTMLFormElement) || !(area instanceof Element)) return;
  unmark(form);
  const names = (area.querySelector(".refusal[data-fields]")?.dataset.fields || "").split(" ").filter(Boolean);
  const refused = [...form.elements].filter((field) => field.name && field.type !== "hidden"
    && names.some((name) => [name, name.split(".").pop(), name.split(".")[0]].includes(field.name)));
  for (const field of refused) {
    const before = field.getAttribute("aria-describedby") || "";
    field.setAttribute(REFUSED, before);
    if (area.id) field.setAttribute("aria-describedby", `${before} ${area.id}`.trim());
    field.setAttribute("aria-invalid", "true");
  }
  refused.find((field) => !field.disabled)?.focus();
});

// A form whose answer takes the place of the page's content (an account added, a password or a
// second factor shown once): the new content's heading takes the focus, so the keyboard and a screen
// reader go on from there rather than from the top of the page, and the title names it as a page
// of its own would ("<heading> · <console>").
document.addEventListener("htmx:afterSwap", (event) => {
  const area = event.detail?.target;
  if (!(area instanceof HTMLElement) || area.id !== "main") return;
  const heading = area.querySelector("h1");
  if (!heading) return;
  heading.setAttribute("tabindex", "-1");
  heading.focus();
  const console = document.title.indexOf(" · ");
  if (console >= 0) document.title = heading.textContent.trim() + document.title.slice(console);
});

// A page left untouched for the session's idle time (data-idle-timeout-s, set on the pages of a
// logged-in person) goes to the login page, which says why: what was on the screen of a tablet
// left on the desk does not stay there. The gateway ends the session itself after the same time
// without a request; this only takes the page off the screen, and stops anything a page would
// poll with it. Only the person's own input counts here, never a request a page made by itself.
// Checked every few seconds against the time of the last input, so a tablet waking from sleep
// leaves the page at once.
(() => {
  const idleS = Number(document.body?.dataset.idleTimeoutS);
  if (!(idleS > 0)) return;
  let touched = Date.now();
  for (const kind of ["pointerdown", "keydown", "wheel"]) {
    document.addEventListener(kind, () => { touched = Date.now(); }, { passive: true, capture: true });
  }
  const check = window.setInterval(() => {
    if (Date.now() - touched < idleS * 1000) return;
    window.clearInterval(check);
    const going = new URLSearchParams({ next: location.pathname + location.search, ended: "idle" });
    location.replace(`/console/login?${going}`);
  }, 5000);
})();
