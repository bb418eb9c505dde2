// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // FORM actions open as a modal dialog; without script the link shows the dialog in the page.
  document.querySelectorAll("[data-open-dialog]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var dialog = document.getElementById(link.getAttribute("data-open-dialog"));
      if (dialog && dialog.showModal) { event.preventDefault(); dialog.showModal(); }
    });
  });
  document.querySelectorAll("dialog[data-modal-open]").forEach(function (dialog) {
    if (dialog.showModal) { dialog.close(); dialog.showModal(); }
  });
  document.querySelectorAll("[data-close-dialog]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var dialog = link.closest("dialog");
      if (dialog && dialog.close) { event.preventDefault(); dialog.close(); }
    });
  });
  // Confirmation of forms that change something hard to undo.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
  // The effect rows show the fields of their type only.
  function showEffectFields(row) {
    var type = row.querySelector("[data-effect-type]").value;
    row.querySelectorAll("[class*='when-']").forEach(function (el) {
      el.hidden = type !== "" && !el.classList.contains("when-" + type);
      if (type === "") { el.hidden = true; }
    });
  }
  document.querySelectorAll("[data-effect]").forEach(function (row) {
    showEffectFields(row);
    row.querySelector("[data-effect-type]").addEventListener("change", function () { showEffectFields(row); });
  });
  // The order's timeline follows what happens while the page is open.
  var timeline = document.getElementById("timeline");
  if (timeline && window.fetch) {
    var last = timeline.innerHTML;
    setInterval(function () {
      if (document.hidden) { return; }
      fetch(timeline.getAttribute("data-src"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html && html !== last) { last = html; timeline.innerHTML = html; } })
        .catch(function () {});
    }, 2000);
  }
})();
