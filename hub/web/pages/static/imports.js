// The import pages' script (each page works without it):
//  - the upload form's drop zone: a file dropped on it goes into the file input and the form is
//    submitted, as if picked; a file over the size limit is refused before it is sent;
//  - the mapping step: the line naming the discarded columns follows the selects.
(function () {
  "use strict";

  function refuse(form, message) {
    var box = document.getElementById("upload-error");
    if (!box) { return; }
    box.textContent = message;
    box.hidden = false;
  }

  function tooLarge(form, file) {
    var limit = parseInt(form.getAttribute("data-max-bytes"), 10);
    return limit && file && file.size > limit;
  }

  function submitUpload(form) {
    var input = document.getElementById("file-input");
    var file = input.files && input.files[0];
    if (!file) { refuse(form, "Choose a CSV file to upload"); return false; }
    if (tooLarge(form, file)) {
      refuse(form, "The file is larger than the " + form.getAttribute("data-max-size") + " limit");
      return false;
    }
    var button = document.getElementById("upload-go");
    if (button) { button.disabled = true; button.textContent = "Uploading…"; }
    return true;
  }

  function setUpUpload() {
    var form = document.getElementById("upload-form");
    var zone = document.getElementById("drop-zone");
    var input = document.getElementById("file-input");
    if (!form || !zone || !input) { return; }
    form.addEventListener("submit", function (event) {
      if (!submitUpload(form)) { event.preventDefault(); }
    });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        event.dataTransfer.dropEffect = "copy";
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "dragend"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("dragging");
      var dropped = event.dataTransfer && event.dataTransfer.files;
      if (!dropped || !dropped.length) { return; }
      var one = new DataTransfer();  // only the first file: an import is one CSV
      one.items.add(dropped[0]);
      input.files = one.files;
      if (submitUpload(form)) { form.submit(); }
    });
  }

  function setUpMapping() {
    var form = document.getElementById("mapping-form");
    var list = document.getElementById("discarded-list");
    if (!form || !list) { return; }
    var selects = form.querySelectorAll("select");
    var headers = Array.prototype.map.call(selects[0].options, function (o) { return o.value; })
      .filter(function (value) { return value !== ""; });
    function update() {
      var used = Array.prototype.map.call(selects, function (s) { return s.value; });
      var discarded = headers.filter(function (h) { return used.indexOf(h) === -1; });
      list.textContent = discarded.length ? discarded.join(", ") : "none, every column is used";
    }
    form.addEventListener("change", update);
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpUpload();
    setUpMapping();
  });
})();
