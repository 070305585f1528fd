/* Small enhancements only; every page works without this file. */
(function () {
  "use strict";
  function syncForward() {
    var outcome = document.getElementById("outcome");
    var forward = document.getElementById("forward_to");
    if (!outcome || !forward) { return; }
    var box = forward.closest(".field");
    var show = outcome.value === "forwarded";
    if (box) { box.hidden = !show; }
  }
  /* 条例等の調整: the timing's label follows the heading chosen (議会提案時期 / 議会上程時期). */
  function syncTimingLabel() {
    var chosen = document.getElementById("ordinance_submission_label");
    var label = document.querySelector("label[for='ordinance_council_submission']");
    if (!chosen || !label || chosen.selectedIndex < 0) { return; }
    label.textContent = chosen.options[chosen.selectedIndex].text;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var outcome = document.getElementById("outcome");
    if (outcome) { outcome.addEventListener("change", syncForward); syncForward(); }
    var heading = document.getElementById("ordinance_submission_label");
    if (heading) { heading.addEventListener("change", syncTimingLabel); }
  });
})();
