// The action form: show the parameters of the chosen action and the site list of the chosen
// method, add reason rows, and fill a long reason when a past short reason is picked.
// Everything works without it: the server validates and keeps what was typed.
(function () {
  "use strict";
  var form = document.getElementById("action-form");
  if (!form) { return; }
  var pastNode = document.getElementById("past-reasons-map");
  var past = pastNode ? JSON.parse(pastNode.textContent) : {};

  function chosenAction() {
    var checked = form.querySelector("input[name=action]:checked");
    return checked ? checked.value : "";
  }

  function showAction() {
    var action = chosenAction();
    form.querySelectorAll("[data-action]").forEach(function (node) {
      node.hidden = node.getAttribute("data-action").split(" ").indexOf(action) < 0;
    });
    form.querySelectorAll("[data-for]").forEach(function (node) {
      node.hidden = node.getAttribute("data-for") !== action;
    });
  }

  function showSites(fieldset) {
    var checked = fieldset.querySelector("input[type=radio]:checked");
    var method = checked ? checked.value : "";
    fieldset.querySelectorAll(".site-list").forEach(function (list) {
      list.hidden = list.getAttribute("data-method") !== method;
    });
  }

  function fillLong(input) {
    var row = input.closest(".reason-row");
    var text = row && row.querySelector("textarea");
    if (text && !text.value.trim() && Object.prototype.hasOwnProperty.call(past, input.value)) {
      text.value = past[input.value];
    }
  }

  // "Tell the requester" starts ticked for the actions config.yml names (clone by default),
  // following the chosen action until the operator ticks or unticks it by hand.
  var tell = form.querySelector("input[name=tell_requester]");
  var tellTouched = false;
  function followTellDefault() {
    if (!tell || tellTouched || tell.disabled) { return; }
    var ticked = (tell.getAttribute("data-default-for") || "").split(" ");
    tell.checked = ticked.indexOf(chosenAction()) >= 0;
  }

  form.addEventListener("change", function (event) {
    var target = event.target;
    if (target === tell) { tellTouched = true; }
    if (target.name === "action") { showAction(); followTellDefault(); }
    if (target.name && /-sites_method$/.test(target.name)) { showSites(target.closest("fieldset")); }
    if (target.name === "reason_short") { fillLong(target); }
  });

  var add = document.getElementById("add-reason");
  if (add) {
    add.addEventListener("click", function () {
      var rows = form.querySelector(".reason-rows");
      var row = rows.querySelector(".reason-row").cloneNode(true);
      row.querySelectorAll("input, textarea").forEach(function (field) { field.value = ""; });
      rows.appendChild(row);
    });
  }

  showAction();
  form.querySelectorAll("fieldset.sites").forEach(showSites);
})();
