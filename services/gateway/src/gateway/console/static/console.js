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
