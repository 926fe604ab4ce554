// Global view: a workflow row's ▾ button hides or shows its step rows.
// Without JavaScript every row stays visible.
document.addEventListener("click", function (event) {
  var button = event.target.closest("button.toggle");
  if (!button) return;
  var open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", open ? "true" : "false");
  button.textContent = open ? "▾" : "▸";
  var row = button.closest("tr").nextElementSibling;
  while (row && row.classList.contains("st")) {
    row.hidden = !open;
    row = row.nextElementSibling;
  }
});
