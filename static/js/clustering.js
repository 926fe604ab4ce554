// "Select all" for the similar-workflows checkboxes; without JavaScript the
// checkboxes still work one by one (the toggle stays hidden).
document.querySelectorAll("[data-select-all]").forEach((toggle) => {
  const panel = toggle.closest("section");
  const boxes = () => panel.querySelectorAll('input[type=checkbox][name="' + toggle.dataset.selectAll + '"]');
  toggle.closest("label").hidden = false;
  toggle.addEventListener("change", () => boxes().forEach((box) => { box.checked = toggle.checked; }));
});
