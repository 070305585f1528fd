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
  document.addEventListener("DOMContentLoaded", function () {
    var outcome = document.getElementById("outcome");
    if (outcome) { outcome.addEventListener("change", syncForward); syncForward(); }
  });
})();
