// The customer page, beyond hub.js (the page works without this file: plain forms and redirects).
//  - A refused save (400, 409, 422) answers with the panel and the form's message in it: htmx
//    leaves error answers unswapped, so the panel's are swapped in like a success.
//  - Any other error (a 403 after the session's role changed, a 404) is said in the panel's live
//    region instead of silently doing nothing.
//  - After the panel is swapped, focus goes where it asks ([data-autofocus]: the opened form's first
//    input, the release button, or the outcome of a save), so keyboard and screen reader users follow.
(function () {
  "use strict";
  var FORM_ERRORS = [400, 409, 422];

  function isPanel(element) {
    return element && element.id === "assignments";
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (isPanel(event.detail.target) && FORM_ERRORS.indexOf(event.detail.xhr.status) !== -1) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    if (!isPanel(event.detail.target)) { return; }
    var status = event.detail.xhr.status;
    if (FORM_ERRORS.indexOf(status) !== -1) { return; }
    var region = document.getElementById("assign-outcome");
    if (!region) { return; }
    var message = document.createElement("p");
    message.className = "outcome outcome-refused";
    message.textContent = "That did not work (the hub answered " + status + "). Reload the page and try again.";
    region.replaceChildren(message);
  });

  document.addEventListener("htmx:afterSettle", function () {
    var panel = document.getElementById("assignments");
    var target = panel && panel.querySelector("[data-autofocus]");
    if (target && document.activeElement !== target) { target.focus(); }
  });
})();
