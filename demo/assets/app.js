/* Countdowns: every element with data-countdown="<RFC 3339 time>" shows the
   time left until then, updated each second. */
(function () {
  'use strict';
  function left(ms) {
    if (ms <= 0) { return 'expired'; }
    var s = Math.floor(ms / 1000);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    s = s % 60;
    if (h > 0) { return 'in ' + h + 'h ' + m + 'm'; }
    if (m > 0) { return 'in ' + m + 'm ' + s + 's'; }
    return 'in ' + s + 's';
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll('[data-countdown]').forEach(function (el) {
      var at = Date.parse(el.getAttribute('data-countdown'));
      if (isNaN(at)) { return; }
      el.textContent = left(at - now);
      el.dataset.expired = String(at <= now);
    });
  }
  document.addEventListener('DOMContentLoaded', function () {
    tick();
    setInterval(tick, 1000);
  });
})();
