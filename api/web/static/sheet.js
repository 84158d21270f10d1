/* Score sheets (self-review, scoring, ballot): a live check of every score as it is typed, a
   running total of the valid scores only, and — where the form names a draft URL — a draft saved
   as the user types. The pages work without it: the server checks every field on submit.

   <form data-sheet data-msg-number="…" data-msg-negative="…" data-msg-range="…{max}…"
         [data-draft-url="…" data-csrf-header="…" data-csrf="…"]>
     a row (.pp-point / .pp-secretary) holds <input data-score data-max="6">, optionally a
     [data-na] checkbox, and a .field-error box for its message;
     [data-total] shows the total, [data-draft-status] what the draft did.
   The draft endpoint answers {saved, message, not_kept: [{field, point, message}]}: the messages are
   the server's, in the page's language, times in Beijing time. */
(function () {
  "use strict";
  var NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)$/;

  function sheet(form) {
    var d = form.dataset;

    function row(el) { return el.closest(".pp-point, .pp-secretary, [data-row]"); }
    function isNa(r) { var na = r && r.querySelector("[data-na]"); return !!(na && na.checked); }
    function box(r, create) {
      var b = r.querySelector(".field-error");
      if (!b && create) {
        b = document.createElement("p");
        b.className = "field-error";
        b.setAttribute("role", "alert");
        r.appendChild(b);
      }
      return b;
    }
    function mark(input, message) {
      var r = row(input);
      if (!r) return;
      var b = box(r, !!message);
      r.classList.toggle("pp-invalid", !!message);
      if (message) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
      if (b) { b.textContent = message || ""; b.hidden = !message; }
    }
    /* The rule of SPEC §3–4 for one score (domain.rules.point_score_errors on the server): blank
       (not yet) is fine, else a number, 0 ≤ s ≤ max. Answers the message, or "" when valid. */
    function problem(input) {
      var raw = input.value.trim();
      if (!raw || isNa(row(input))) return "";
      if (!NUMBER.test(raw)) return d.msgNumber;
      var value = parseFloat(raw);
      if (value < 0) return d.msgNegative;
      if (input.dataset.max && value > parseFloat(input.dataset.max)) return d.msgRange.replace("{max}", input.dataset.max);
      return "";
    }
    function total() {
      var out = form.querySelector("[data-total]");
      if (!out) return;
      // Exact for the places typed (SPEC §4 reads inputs as exact decimals): summed as integers
      // scaled by the most decimals any valid value has, shown without trailing zeros.
      var valid = [], places = 0;
      form.querySelectorAll("[data-score]").forEach(function (input) {
        var raw = input.value.trim().replace(/^\+/, "");
        if (!raw || isNa(row(input)) || problem(input)) return;
        var dot = raw.indexOf(".");
        places = Math.max(places, dot < 0 ? 0 : raw.length - dot - 1);
        valid.push(raw);
      });
      places = Math.min(places, 6);
      var scale = Math.pow(10, places), sum = 0;
      valid.forEach(function (raw) { sum += Math.round(parseFloat(raw) * scale); });
      out.textContent = String(parseFloat((sum / scale).toFixed(places)));
    }
    function check(input) { mark(input, input.matches("[data-score]") ? problem(input) : ""); }

    var status = form.querySelector("[data-draft-status]");
    var timer = null, pending = false, running = false;
    function save() {
      if (!d.draftUrl) return;
      if (running) { pending = true; return; }
      running = true;
      if (status) status.textContent = d.msgSaving || "";
      var headers = {"Accept": "application/json"};
      if (d.csrfHeader) headers[d.csrfHeader] = d.csrf;
      fetch(d.draftUrl, {method: "POST", body: new FormData(form), credentials: "same-origin", headers: headers})
        .then(function (r) { return r.json().catch(function () { return {saved: false, message: d.msgFailed}; }); })
        .then(function (body) {
          if (status) status.textContent = body.message || (body.saved ? "" : d.msgFailed);
          if (!body.saved) return;
          /* What the previous save did not keep and this one did: back to the live check's word. */
          form.querySelectorAll("[data-not-kept]").forEach(function (input) { delete input.dataset.notKept; check(input); });
          (body.not_kept || []).forEach(function (nk) {
            var r = form.querySelector('[data-point="' + CSS.escape(nk.point || "") + '"]');
            var input = r && (r.querySelector('[name="' + CSS.escape(nk.input || "") + '"]') || r.querySelector("[data-score]"));
            if (input) { input.dataset.notKept = "1"; mark(input, nk.message); }
          });
        })
        .catch(function () { if (status) status.textContent = d.msgFailed; })
        .finally(function () { running = false; if (pending) { pending = false; save(); } });
    }
    function later() { if (!d.draftUrl) return; clearTimeout(timer); timer = setTimeout(save, 700); }

    form.addEventListener("input", function (e) {
      if (e.target.matches("[data-score]")) { check(e.target); total(); }
      later();
    });
    form.addEventListener("change", function (e) {
      if (!e.target.matches("[data-na]")) return;
      var r = row(e.target), input = r.querySelector("[data-score]");
      if (input) check(input);
      total();
      later();
    });
    var button = form.querySelector("[data-save-draft]");
    if (button) button.addEventListener("click", function () { clearTimeout(timer); save(); });
    total();
  }

  function start() { document.querySelectorAll("form[data-sheet]").forEach(sheet); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
