/* The error summary (templates/macros/forms.html error_summary): focused when the page loads, so
   a screen reader reads it and the keyboard starts there; each link moves the focus to its field
   and scrolls so that the field's label (or its group's legend) shows above it. Without this
   file the summary still shows and its links still lead to the fields. */
(function () {
  "use strict";
  function labelOf(control) {
    var fieldset = control.closest("fieldset");
    if (fieldset && fieldset.querySelector("legend") &&
        (control.type === "checkbox" || control.type === "radio")) {
      return fieldset.querySelector("legend");
    }
    return document.querySelector("label[for='" + control.id + "']") || control;
  }
  function follow(event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) { return; }
    var control = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!control) { return; }
    event.preventDefault();
    if (control.tabIndex < 0 && !control.matches("input, select, textarea, button")) {
      control.setAttribute("tabindex", "-1");
    }
    labelOf(control).scrollIntoView({block: "start"});
    control.focus({preventScroll: true});
    if (history.replaceState) { history.replaceState(null, "", link.hash); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) { return; }
    summary.addEventListener("click", follow);
    summary.focus();
  });
})();
