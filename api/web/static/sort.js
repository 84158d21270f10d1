// Tables sorted in the browser: <table data-sortable>, a header <th data-sort-col="num|text">
// sorts by its column when clicked (again: the other way). A cell's data-value, when present, is
// what it sorts by (the exact score behind the two places shown); empty cells go last.
(function () {
  "use strict";
  function key(cell, kind) {
    var raw = cell ? (cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim()) : "";
    if (raw === "" || raw === "—") return null;
    if (kind === "num") { var n = parseFloat(raw); return isNaN(n) ? null : n; }
    return raw;
  }
  function sortBy(table, th) {
    var headers = Array.prototype.slice.call(th.parentNode.children);
    var index = headers.indexOf(th);
    var kind = th.getAttribute("data-sort-col");
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    headers.forEach(function (h) { if (h.hasAttribute("data-sort-col")) h.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, i) { return { row: row, i: i, k: key(row.cells[index], kind) }; });
    rows.sort(function (a, b) {
      if (a.k === null || b.k === null) return (a.k === null) - (b.k === null) || a.i - b.i;
      var c = kind === "num" ? a.k - b.k : String(a.k).localeCompare(String(b.k), "zh-CN", { numeric: true });
      return (ascending ? c : -c) || a.i - b.i;
    });
    rows.forEach(function (r) { body.appendChild(r.row); });
  }
  document.querySelectorAll("table[data-sortable]").forEach(function (table) {
    table.querySelectorAll("th[data-sort-col]").forEach(function (th) {
      th.setAttribute("aria-sort", "none");
      th.tabIndex = 0;
      th.addEventListener("click", function () { sortBy(table, th); });
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, th); } });
    });
  });
})();
// A search box over such a table: <input data-table-filter="ID"> shows only the rows of table #ID
// whose text has what is typed (case and spaces aside).
(function () {
  "use strict";
  document.querySelectorAll("input[data-table-filter]").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-table-filter"));
    if (!table) return;
    var count = document.querySelector("[data-filter-count='" + table.id + "']");
    function apply() {
      var needle = input.value.trim().toLowerCase();
      var shown = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var keep = !needle || row.textContent.toLowerCase().indexOf(needle) >= 0;
        row.hidden = !keep;
        shown += keep ? 1 : 0;
      });
      if (count) count.textContent = String(shown);
    }
    input.addEventListener("input", apply);
    apply();
  });
})();
