// The organizer console's adjustment form (form[data-testid=adjust-form], data-bonus-cap and
// data-cap-text on it; each unit <option> carries data-bonus-approved and data-bonus-pending).
/* A bonus that takes the unit past the policy's cap: say, as it is typed, that only the cap counts. */
(function () {
  var form = document.querySelector('[data-testid="adjust-form"]');
  if (!form) return;
  var cap = parseFloat(form.dataset.bonusCap), note = form.querySelector('[data-testid="cap-live"]');
  function num(x) { var v = parseFloat(x); return isNaN(v) ? 0 : v; }
  function words(x) { return String(Math.round(x * 100) / 100); }
  function check() {
    var unit = form.querySelector("#adj-unit"), opt = unit.options[unit.selectedIndex];
    var typed = parseFloat(form.querySelector("#adj-points").value);
    var total = opt ? num(opt.dataset.bonusApproved) + num(opt.dataset.bonusPending) + (isNaN(typed) ? 0 : typed) : 0;
    var show = form.querySelector("#adj-kind").value === "bonus" && !isNaN(typed) && total > cap;
    note.hidden = !show;
    note.textContent = show ? form.dataset.capText.replace(/\{total\}/g, words(total)).replace(/\{cap\}/g, words(cap)) : "";
  }
  form.addEventListener("input", check);
  form.addEventListener("change", check);
  check();
})();
