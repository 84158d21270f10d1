// A confirmed bulk action (organizer_bulk.html): sends each row as its own request (POST
// data-bulk, one row's target), a few at a time, and shows the progress as it goes. Each row's
// command carries the batch's key, so sending a row again records nothing twice.
(function () {
  "use strict";
  var form = document.querySelector("form[data-bulk]");
  if (!form || !window.fetch || !window.FormData) return;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("[data-testid=bulk-confirm]");
    var cancel = form.querySelector("[data-testid=bulk-cancel]");
    if (button.disabled) return;
    button.disabled = true;
    if (cancel) cancel.style.display = "none";
    var box = form.querySelector("[data-testid=bulk-progress]");
    var bar = box.querySelector("progress");
    var count = box.querySelector("[data-testid=bulk-count]");
    var summary = box.querySelector("[data-testid=bulk-summary]");
    var failedList = box.querySelector("[data-testid=bulk-failed]");
    box.hidden = false;
    var base = new FormData(form);
    var targets = base.getAll("target");
    base.delete("target");
    var next = 0, finished = 0, tally = { done: 0, skipped: 0, failed: 0 };
    function show() {
      bar.value = finished;
      count.textContent = String(finished);
      summary.textContent = summary.getAttribute("data-text")
        .replace("{done}", tally.done).replace("{skipped}", tally.skipped).replace("{failed}", tally.failed);
    }
    function send(target, attempt) {
      var body = new FormData();
      base.forEach(function (value, key) { body.append(key, value); });
      body.append("target", target);
      return fetch(form.getAttribute("data-bulk"), { method: "POST", body: body, credentials: "same-origin" })
        .then(function (r) {
          if (r.status === 503 && attempt < 5) {  // busy: the same row again, with the same key
            var wait = parseFloat(r.headers.get("Retry-After") || "2") * 1000;
            return new Promise(function (ok) { setTimeout(ok, wait); }).then(function () { return send(target, attempt + 1); });
          }
          return r.json();
        });
    }
    function worker() {
      if (next >= targets.length) return Promise.resolve();
      var target = targets[next++];
      return send(target, 0).then(function (answer) {
        var result = answer && answer.result;
        if (result === "done" || result === "skipped") { tally[result] += 1; }
        else {
          tally.failed += 1;
          var li = document.createElement("li");
          li.textContent = target + "：" + ((answer && answer.message) || "");
          failedList.appendChild(li);
        }
      }, function () {
        tally.failed += 1;
        var li = document.createElement("li");
        li.textContent = target;
        failedList.appendChild(li);
      }).then(function () { finished += 1; show(); return worker(); });
    }
    show();
    var lanes = [];
    for (var i = 0; i < Math.min(3, targets.length); i++) lanes.push(worker());
    Promise.all(lanes).then(function () {
      form.setAttribute("data-done", "1");
      form.querySelector("[data-testid=bulk-finished]").hidden = false;
      button.style.display = "none";
    });
  });
})();
