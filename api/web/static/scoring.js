// The evaluator's scoring sheet (form#pp-scoring): ticking N/A on a point shows its reason box
// and makes its score read-only. The running total and the live check are static/sheet.js.
(function () {
  var form = document.getElementById("pp-scoring");
  if (!form) return;
  form.addEventListener("change", function (e) {
    if (!e.target.matches("[data-na]")) return;
    var row = e.target.closest(".pp-point"), reason = row.querySelector(".pp-na-reason"), input = row.querySelector("[data-score]");
    row.classList.toggle("pp-is-na", e.target.checked);
    reason.hidden = !e.target.checked;
    input.readOnly = e.target.checked;
    if (e.target.checked) reason.focus();
  });
})();
