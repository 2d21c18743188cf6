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
