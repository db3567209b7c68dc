// The console's own script, served from this server (CSP script-src
// 'self'). Every page works without it; with it, focus moves to a page's
// confirmation, and a person is warned before the idle logoff with time to
// stay signed in. The board's own refresh is not a person and does not
// count as activity.
(function () {
  "use strict";
  var flash = document.getElementById("flash");
  if (flash) {
    flash.focus();
  }
  var warning = document.getElementById("idle-warning");
  var idle = Number(document.body.getAttribute("data-idle-seconds"));
  if (!warning || !idle) {
    return;
  }
  var notice = Math.min(120, Math.floor(idle / 2));
  var left = warning.querySelector("[data-left]");
  var timer = null;
  var ticking = null;

  function clock(seconds) {
    var s = String(seconds % 60);
    return Math.floor(seconds / 60) + ":" + (s.length < 2 ? "0" + s : s);
  }

  function arm() {
    clearTimeout(timer);
    clearInterval(ticking);
    warning.hidden = true;
    timer = setTimeout(warn, (idle - notice) * 1000);
  }

  function warn() {
    var remaining = notice;
    left.textContent = clock(remaining);
    warning.hidden = false;
    document.getElementById("stay-signed-in").focus();
    ticking = setInterval(function () {
      remaining -= 1;
      if (remaining > 0) {
        left.textContent = clock(remaining);
        return;
      }
      clearInterval(ticking);
      warning.querySelector("p").textContent =
        "You have been signed out after 15 minutes without activity. " +
        "Anything you send now is kept for you while you sign in again.";
      document.getElementById("stay-signed-in").hidden = true;
    }, 1000);
  }

  document.getElementById("stay-signed-in").addEventListener("click", function () {
    var body = "csrf=" + encodeURIComponent(warning.getAttribute("data-csrf"));
    fetch("/console/keep-alive", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body,
      redirect: "manual"
    }).then(function (answer) {
      if (answer.status === 204) {
        arm();
      } else {
        window.location.reload();
      }
    });
  });
  arm();
})();
