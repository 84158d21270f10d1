/* Kaohe: a page form that met an overload or an outage is sent again, not lost.
 *
 * When a page form's POST is answered 503 (busy, or Temporal or the database away), the server
 * renders the 503 page with a hidden copy of that form (form[data-retry-form]: the same fields,
 * the same idempotency key "idem", data-retry-after seconds). This script re-sends it with fetch
 * and the header Idempotency-Key set to that key, after Retry-After, showing
 * "系统繁忙，正在重试… / busy, retrying…"; a 503, a 409 request_in_progress or a network failure
 * (the server restarting) waits and sends again, for up to data-retry-for seconds (on <body>;
 * default 60). The server answers a repeat of a request that went through with the first answer
 * and stores nothing twice. Any other answer is shown as the browser would show it: a redirect is
 * followed, a page replaces this one.
 */
(function () {
  "use strict";

  function english() {
    return (document.documentElement.lang || "zh").toLowerCase().indexOf("en") === 0;
  }

  function say(box, zh, en) {
    if (box) box.textContent = english() ? en : zh;
  }

  function retryAfter(response, fallback) {
    var seconds = parseFloat(response ? response.headers.get("Retry-After") : fallback);
    return isNaN(seconds) ? 1 : Math.min(Math.max(seconds, 0.2), 30);
  }

  function show(response) {
    if (response.redirected) {
      window.location.assign(response.url);
      return;
    }
    return response.text().then(function (html) {
      document.open();
      document.write(html);
      document.close();
    });
  }

  function start(form) {
    var key = form.querySelector("input[name=idem]");
    var box = document.querySelector("[data-retry-status]");
    var limit = parseFloat(document.body.getAttribute("data-retry-for") || "60");
    var deadline = Date.now() + (isNaN(limit) ? 60 : limit) * 1000;
    if (!key || !key.value || !window.fetch) return;

    function again(wait) {
      if (Date.now() + wait * 1000 > deadline) {
        say(box, "系统暂时不可用，请稍后重新提交。", "The system is unavailable; please submit again later.");
        if (box) box.setAttribute("data-retry-state", "gave-up");
        return;
      }
      say(box, "系统繁忙，正在重试…", "Busy, retrying…");
      if (box) box.setAttribute("data-retry-state", "waiting");
      setTimeout(attempt, wait * 1000);
    }

    function attempt() {
      fetch(form.action, {
        method: "POST", body: new FormData(form), credentials: "same-origin", redirect: "follow",
        headers: {"Idempotency-Key": key.value}
      }).then(function (response) {
        if (response.status === 503) return again(retryAfter(response));
        var type = response.headers.get("Content-Type") || "";
        if (response.status === 409 && type.indexOf("application/json") === 0) {
          return response.clone().json().then(function (body) {
            return body.code === "request_in_progress" ? again(retryAfter(response)) : show(response);
          }, function () { return show(response); });
        }
        return show(response);
      }, function () {
        again(1); // no answer at all: the server is restarting or the network is down
      });
    }

    again(retryAfter(null, form.getAttribute("data-retry-after")));
  }

  function ready() {
    var form = document.querySelector("form[data-retry-form]");
    if (form) start(form);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
