// The customer list, enhanced (everything works without it):
//  - #select-page selects or clears the page's rows; #selected-count (aria-live) says how many
//    are selected, or that every matching customer is;
//  - the Columns panel opens again after a move (the server redirects to #columns);
//  - the filter form leaves its empty fields out of the URL (the server would redirect anyway).
(function () {
  "use strict";
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("input.row-select")); }

  function updateCount() {
    var counter = document.getElementById("selected-count");
    if (!counter) { return; }
    var all = document.getElementById("select-all-matching");
    var page = document.getElementById("select-page");
    var boxes = rows();
    var chosen = boxes.filter(function (box) { return box.checked; }).length;
    if (page) {
      page.checked = boxes.length > 0 && chosen === boxes.length;
      page.indeterminate = chosen > 0 && chosen < boxes.length;
    }
    if (all && all.checked) {
      counter.textContent = "All " + all.getAttribute("data-total") + " matching selected";
    } else {
      counter.textContent = chosen + " selected";
    }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.id === "select-page") {
      rows().forEach(function (box) { box.checked = target.checked; });
    }
    if (target.id === "select-page" || target.id === "select-all-matching" ||
        target.classList.contains("row-select")) {
      updateCount();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "filters") { return; }
    form.querySelectorAll("input[name], select[name]").forEach(function (field) {
      if (field.value === "") { field.disabled = true; }
    });
    setTimeout(function () {  // back/forward cache: the fields are usable again
      form.querySelectorAll("[disabled]").forEach(function (field) { field.disabled = false; });
    }, 0);
  });

  document.addEventListener("DOMContentLoaded", function () {
    if (window.location.hash === "#columns") {
      var panel = document.getElementById("columns");
      if (panel) { panel.open = true; }
    }
    updateCount();
  });
})();
