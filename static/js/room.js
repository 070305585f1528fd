/* The meeting room (templates/meetings/room.html) never loses what was typed.
 *
 * - Every keystroke keeps the form's values in this tab's sessionStorage (the "stash", keyed by
 *   user, meeting and entry), and a few seconds after typing stops a draft goes to the server
 *   (POST …/draft: no event, and it does not extend the sign-in).
 * - Every submit of the form first saves the draft. If the sign-in has expired (401) or the page
 *   is out of date (400: signed in again elsewhere, so its CSRF token is gone), nothing is posted:
 *   the stash is marked with the button pressed and a banner links to the sign-in page, which
 *   comes back here; this page then puts the text back and presses the button again.
 * - A stash is only ever read by the user who typed it; other users' stashes in this tab are
 *   removed when a room page opens.
 * Without this file the page works as before (rows added by posting the form).
 */
(function () {
  "use strict";
  var KEEP = /^(presenter|special_notes|outcome|forward_to|attendance_paste|attendance-\d+-(section|deputy|absent)|opinions-\d+-(opinion|response|follow_up|public))$/;
  var ROW = /^(attendance|opinions)-(\d+)-/;

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("room-form");
    if (!form || !form.dataset.draftUrl) { return; }
    var key = form.dataset.stashKey;
    var status = document.getElementById("draft-status");
    var alertBox = document.getElementById("room-alert");
    var delay = Number(form.dataset.draftDelay) || 3000;
    var timer = null;
    var blocked = false;  // signed out or out of date: drafts cannot be saved from this page
    var submitting = false;

    function values() {
      var out = [];
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || !KEEP.test(el.name) || el.disabled) { return; }
        if (el.type === "checkbox") { if (el.checked) { out.push([el.name, el.value]); } return; }
        out.push([el.name, el.value]);
      });
      return out;
    }
    function readStash() {
      try { return JSON.parse(window.sessionStorage.getItem(key) || "null"); } catch (e) { return null; }
    }
    function writeStash(pending) {
      var old = readStash();
      var stash = {
        fields: values(),
        base: form.elements.draft_base.value,
        pending: pending !== undefined ? pending : (old && old.pending) || null
      };
      try { window.sessionStorage.setItem(key, JSON.stringify(stash)); } catch (e) { /* full */ }
    }
    function clearStash() {
      try { window.sessionStorage.removeItem(key); } catch (e) { /* none */ }
    }
    function forgetOtherUsers() {
      var own = form.dataset.stashPrefix;
      try {
        for (var i = window.sessionStorage.length - 1; i >= 0; i--) {
          var k = window.sessionStorage.key(i);
          if (k && k.indexOf("chogi.room.") === 0 && k.indexOf(own) !== 0) {
            window.sessionStorage.removeItem(k);
          }
        }
      } catch (e) { /* storage unavailable */ }
    }
    function say(text) { if (status) { status.textContent = text; } }
    function showAlert(message, linkText, href, focus) {
      if (!alertBox) { return; }
      alertBox.textContent = "";
      var p = document.createElement("p");
      p.textContent = message;
      alertBox.appendChild(p);
      if (href) {
        var a = document.createElement("a");
        a.className = "button primary";
        a.href = href;
        a.textContent = linkText;
        alertBox.appendChild(a);
      }
      alertBox.hidden = false;
      var link = alertBox.querySelector("a");
      /* Focus moves only when the user pressed a button: never away from a field being typed in. */
      if (link && focus) { link.scrollIntoView({ block: "center" }); link.focus(); }
    }

    /* Save the draft; resolves "ok", "expired", "stale" or "error". */
    function saveDraft(pressed) {
      window.clearTimeout(timer);
      timer = null;
      if (blocked) {
        if (pressed) { alertBox.hidden = false; var a = alertBox.querySelector("a"); if (a) { a.focus(); } }
        return Promise.resolve(blocked);
      }
      var body = new FormData();
      body.append("csrf_token", form.elements.csrf_token.value);
      body.append("draft_base", form.elements.draft_base.value);
      values().forEach(function (pair) { body.append(pair[0], pair[1]); });
      return fetch(form.dataset.draftUrl, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        if (response.ok && !response.redirected) {
          return response.json().then(function (data) { say(data.message); return "ok"; });
        }
        if (response.status === 401) {
          return response.json().then(function (data) {
            blocked = "expired";
            say("");
            showAlert(data.error.message, "ログインし直す", data.error.details.login_url, pressed);
            return "expired";
          });
        }
        if (response.status === 400) {
          blocked = "stale";
          /* The page's CSRF token no longer matches the sign-in: it ended (a cookie gone) or
             another tab signed in again. Reloading asks for a sign-in if one is needed. */
          showAlert("この画面の有効期限が切れています（ログインの期限切れ、またはほかの画面で"
            + "ログインし直したためです）。入力内容はこの端末に残っています。読み込み直して、"
            + "求められたらログインすると、入力内容を戻して続けられます。",
            "読み込み直す", form.dataset.roomUrl, pressed);
          return "stale";
        }
        return response.json().then(function (data) {
          say("下書きを保存できませんでした：" + data.error.message);
          return "error";
        }, function () { say("下書きを保存できませんでした。"); return "error"; });
      }).catch(function () {
        say("下書きを保存できませんでした。入力内容はこの画面に残っています。");
        return "error";
      });
    }

    function changed() {
      writeStash();
      if (blocked) { return; }
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { saveDraft(false); }, delay);
    }

    function post(button) {
      submitting = true;
      if (button) {
        var hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = button[0];
        hidden.value = button[1];
        form.appendChild(hidden);
      }
      HTMLFormElement.prototype.submit.call(form);
    }

    form.addEventListener("submit", function (event) {
      if (submitting) { return; }
      event.preventDefault();
      var by = event.submitter && event.submitter.name ? [event.submitter.name, event.submitter.value] : null;
      saveDraft(true).then(function (result) {
        if (result === "expired" || result === "stale") {
          writeStash(by || ["save", "1"]);  /* pressed again once signed in */
          return;
        }
        clearStash();  /* the post carries it (and the server's draft, if it was saved) */
        post(by);
      });
    });

    /* Rows added here without a round trip (the button still posts without this file). */
    function renumber(el, from, to) {
      ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) {
          el.setAttribute(attr, value.replace(
            new RegExp("(attendance|opinions)-" + from + "(?=-|\\s|$)", "g"), "$1-" + to));
        }
      });
      var label = el.getAttribute("aria-label");
      if (label) { el.setAttribute("aria-label", label.replace(" " + (from + 1), " " + (to + 1))); }
    }
    function addRow(list) {
      var rows = form.querySelector("[data-rows='" + list + "']");
      if (!rows || !rows.lastElementChild) { return null; }
      var last = rows.lastElementChild;
      var from = rows.children.length - 1;
      var to = from + 1;
      var row = last.cloneNode(true);
      row.querySelectorAll(".error, .hint").forEach(function (el) { el.remove(); });
      row.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
      [row].concat(Array.prototype.slice.call(row.querySelectorAll("*"))).forEach(function (el) {
        renumber(el, from, to);
        el.removeAttribute("autofocus");
        el.removeAttribute("aria-invalid");
        if (el.getAttribute("aria-describedby") === "") { el.removeAttribute("aria-describedby"); }
      });
      row.querySelectorAll("label").forEach(function (label) {
        label.childNodes.forEach(function (node) {
          if (node.nodeType === 3) {
            node.textContent = node.textContent.replace(new RegExp("(出席|意見|回答|その後の対応) " + (from + 1)), "$1 " + (to + 1));
          }
        });
      });
      row.querySelectorAll("input, textarea, select").forEach(function (el) {
        if (el.type === "checkbox") { el.checked = false; } else if (el.type === "hidden") { el.value = "1"; } else { el.value = ""; }
      });
      row.querySelectorAll("[role=group]").forEach(function (el) { renumber(el, from, to); });
      row.querySelectorAll("button").forEach(function (b) {
        b.disabled = /^down_/.test(b.name);
        if (/^up_/.test(b.name)) { b.disabled = false; }
      });
      last.querySelectorAll("button").forEach(function (b) { if (/^down_/.test(b.name)) { b.disabled = false; } });
      rows.appendChild(row);
      return row;
    }
    form.querySelectorAll("[data-add-row]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        var row = addRow(button.dataset.addRow);
        if (!row) { return; }
        event.preventDefault();
        var first = row.querySelector("input:not([type=hidden]):not([type=checkbox]), textarea");
        if (first) { first.focus(); }
        changed();
      });
    });

    /* Put stashed values back, adding rows as needed. */
    function fill(fields) {
      var need = { attendance: 0, opinions: 0 };
      fields.forEach(function (pair) {
        var m = ROW.exec(pair[0]);
        if (m) { need[m[1]] = Math.max(need[m[1]], Number(m[2]) + 1); }
      });
      Object.keys(need).forEach(function (list) {
        var rows = form.querySelector("[data-rows='" + list + "']");
        while (rows && rows.children.length < need[list] && addRow(list)) { /* add */ }
      });
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || !KEEP.test(el.name)) { return; }
        if (el.type === "checkbox") { el.checked = false; } else if (el.type === "hidden") { el.value = "1"; } else if (el.tagName !== "SELECT") { el.value = ""; }
      });
      fields.forEach(function (pair) {
        var el = form.elements.namedItem(pair[0]);
        if (!el) { return; }
        if (el.type === "checkbox") { el.checked = true; } else { el.value = pair[1]; }
      });
      form.dispatchEvent(new Event("change"));
      var outcome = document.getElementById("outcome");
      if (outcome) { outcome.dispatchEvent(new Event("change")); }
    }

    forgetOtherUsers();
    var stash = readStash();
    if (stash && Array.isArray(stash.fields)) {
      var same = JSON.stringify(stash.fields) === JSON.stringify(values());
      var current = stash.base === form.elements.draft_base.value;
      if (stash.pending && current) {
        fill(stash.fields);
        clearStash();
        say("ログインし直す前に入力した内容を保存しています…");
        post(stash.pending);
        return;
      }
      if (!same) {
        fill(stash.fields);
        writeStash(null);
        showAlert(current
          ? "保存していない入力内容を復元しました。確かめてから「保存」を押してください。"
          : "保存していない入力内容を復元しました。ただし、この議題の記録はその後ほかの画面で変更されています。内容を確かめてから「保存」を押してください。");
        timer = window.setTimeout(function () { saveDraft(false); }, delay);
      } else {
        clearStash();
      }
    }

    form.addEventListener("input", changed);
    form.addEventListener("change", function (event) { if (event.isTrusted) { changed(); } });
    window.addEventListener("pagehide", function () {
      if (timer !== null && !blocked && !submitting && navigator.sendBeacon) {
        var body = new FormData();
        body.append("csrf_token", form.elements.csrf_token.value);
        body.append("draft_base", form.elements.draft_base.value);
        values().forEach(function (pair) { body.append(pair[0], pair[1]); });
        navigator.sendBeacon(form.dataset.draftUrl, body);
      }
    });
  });
})();
