/* The request form (templates/items/form.html): the 申込締切 card follows the route boxes.
   The page carries every kind's next meeting; the card shows those of the kinds ticked, and
   names the first of them, whose deadline decides 締切後. Without this file the card shows the
   route as saved. */
(function () {
  "use strict";
  function sync(card, boxes) {
    var ticked = {};
    boxes.forEach(function (box) { if (box.checked) { ticked[box.value] = true; } });
    var first = null;
    card.querySelectorAll("li[data-kind]").forEach(function (row) {
      var shown = ticked[row.getAttribute("data-kind")] === true;
      row.hidden = !shown;
      if (shown && first === null) { first = row.getAttribute("data-name"); }
    });
    var name = card.querySelector("[data-first-kind]");
    if (name) { name.textContent = first === null ? "まだ選ばれていません" : "「" + first + "」"; }
    var none = card.querySelector("[data-no-route]");
    if (none) { none.hidden = first !== null; }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var card = document.querySelector("[data-deadlines]");
    if (!card || card.hasAttribute("data-awaited")) { return; }
    var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name='route']"));
    if (!boxes.length) { return; }
    card.querySelectorAll("[data-no-script]").forEach(function (note) { note.hidden = true; });
    boxes.forEach(function (box) {
      box.addEventListener("change", function () { sync(card, boxes); });
    });
    sync(card, boxes);
  });
})();
