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
/* A new request filed by the secretariat for another 課: 局・区 and 部 follow the 課 chosen,
   unless they were typed by hand (they still hold the previous 課's values, or nothing). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-section-places]");
    var section = document.getElementById("section");
    var bureau = document.getElementById("bureau");
    var division = document.getElementById("division");
    if (!form || !section || !bureau || !division) { return; }
    var places = JSON.parse(form.getAttribute("data-section-places"));
    var was = places[section.value] || ["", ""];
    section.addEventListener("change", function () {
      var now = places[section.value] || ["", ""];
      if (bureau.value === "" || bureau.value === was[0]) { bureau.value = now[0]; }
      if (division.value === "" || division.value === was[1]) { division.value = now[1]; }
      was = now;
    });
  });
})();
/* 付議先 must be a meeting on the route (items.missing_fields): offer only the kinds ticked in
   審議の経路, and let go of a choice the route no longer has (the page then asks for one). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var target = document.getElementById("target_kind");
    var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name='route']"));
    if (!target || !boxes.length) { return; }
    function sync(letGo) {
      var ticked = {};
      boxes.forEach(function (box) { if (box.checked) { ticked[box.value] = true; } });
      Array.prototype.forEach.call(target.options, function (option) {
        option.disabled = option.value !== "" && ticked[option.value] !== true;
      });
      var chosen = target.options[target.selectedIndex];
      if (chosen && chosen.disabled) {
        if (letGo) { target.value = ""; } else { chosen.disabled = false; }  /* as saved */
      }
    }
    boxes.forEach(function (box) { box.addEventListener("change", function () { sync(true); }); });
    sync(false);
  });
})();
