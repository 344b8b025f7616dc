/* The dashboard's live panel: a chat over the AppSync Events WebSocket
   protocol, spoken directly, with the access token from the session
   library's token endpoint (the cookies themselves are HttpOnly).

   Protocol (see the events reference, section 1):
   - open the socket with subprotocols ['aws-appsync-event-ws',
     'header-' + base64url(JSON({Authorization: token, host}))], send
     connection_init, wait for connection_ack;
   - subscribe with its own authorization; data frames carry the event as
     a JSON string;
   - publish over the socket with its own authorization.
   On close, or an unauthorized subscribe_error / connection_error /
   publish_error, the token is fetched again and the socket reopened. */
(function () {
  'use strict';
  var MAX_MESSAGES = 200;
  var MAX_TEXT = 500;

  var root = document.getElementById('live');
  if (!root || !window.WebSocket) { return; }
  var cfg = {
    realtimeURL: root.dataset.realtimeUrl,
    httpURL: root.dataset.httpUrl,
    channel: root.dataset.channel,
    tokenURL: root.dataset.tokenUrl,
    email: root.dataset.email
  };
  var statusEl = document.getElementById('live-status');
  var errorEl = document.getElementById('live-error');
  var list = document.getElementById('live-messages');
  var form = document.getElementById('live-form');
  var input = document.getElementById('live-input');
  var sendButton = document.getElementById('live-send');

  var ws = null;        // the current socket
  var token = '';       // the access token the current socket was opened with
  var subId = '';       // our subscription's id on the current socket
  var delay = 250;      // reconnect backoff
  var timer = 0;
  var stopped = false;
  var pending = {};     // publish id -> {text, retried}

  function setStatus(state, text) {
    root.dataset.state = state;
    statusEl.dataset.state = state;
    statusEl.textContent = text;
    sendButton.disabled = state !== 'connected';
  }

  function showError(msg) {
    errorEl.textContent = msg || '';
    errorEl.hidden = !msg;
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  function base64url(s) {
    var bytes = new TextEncoder().encode(s);
    var bin = '';
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // host is the events HTTP endpoint's host (with a non-default port), as
  // AppSync clients send it.
  function host() {
    var u = cfg.httpURL || cfg.realtimeURL.replace(/^ws(s?):/, 'http$1:');
    return new URL(u).host;
  }

  function authorization() {
    return { Authorization: token, host: host() };
  }

  function isUnauthorized(errors) {
    return (errors || []).some(function (e) {
      var t = String(e.errorType || '');
      return t === 'UnauthorizedException' || t === 'Unauthorized' || t === 'NotAuthorizedException' ||
        e.errorCode === 401 || /token expired/i.test(String(e.message || ''));
    });
  }

  function describe(errors) {
    return (errors || []).map(function (e) { return e.message || e.errorType || 'error'; }).join('; ');
  }

  // fetchToken asks the session library for the current access token; the
  // custom header and same-origin credentials are what it requires.
  function fetchToken() {
    return fetch(cfg.tokenURL, {
      method: 'GET',
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { 'X-Cognate-Token': '1', 'Accept': 'application/json' }
    }).then(function (res) {
      if (res.status === 401) {
        var e = new Error('signed out');
        e.signedOut = true;
        throw e;
      }
      if (!res.ok) { throw new Error('token endpoint answered ' + res.status); }
      return res.json();
    }).then(function (body) {
      var t = body && (body.accessToken || body.access_token || body.token);
      if (typeof t !== 'string' || !t) { throw new Error('token endpoint gave no access token'); }
      return t;
    });
  }

  function scheduleReconnect() {
    if (stopped) { return; }
    clearTimeout(timer);
    setStatus('reconnecting', 'Reconnecting…');
    timer = setTimeout(connect, delay + Math.floor(Math.random() * 250));
    delay = Math.min(delay * 2, 15000);
  }

  // reopen drops the current socket and connects again with a new token.
  function reopen() {
    var old = ws;
    ws = null;
    if (old) { old.close(1000); }
    scheduleReconnect();
  }

  function connect() {
    clearTimeout(timer);
    if (stopped) { return; }
    if (root.dataset.state !== 'reconnecting') { setStatus('connecting', 'Connecting…'); }
    fetchToken().then(function (t) {
      token = t;
      open();
    }, function (e) {
      if (e.signedOut) {
        stopped = true;
        setStatus('signed-out', 'Signed out');
        showError('Your session has ended. Sign in again to chat.');
        return;
      }
      showError(e.message);
      scheduleReconnect();
    });
  }

  function open() {
    var sock;
    try {
      sock = new WebSocket(cfg.realtimeURL, ['aws-appsync-event-ws', 'header-' + base64url(JSON.stringify(authorization()))]);
    } catch (e) {
      showError('Cannot open ' + cfg.realtimeURL + ': ' + e.message);
      scheduleReconnect();
      return;
    }
    ws = sock;
    subId = '';
    sock.onopen = function () { sock.send(JSON.stringify({ type: 'connection_init' })); };
    sock.onmessage = function (ev) { if (ws === sock) { onFrame(sock, ev.data); } };
    sock.onclose = function () {
      if (ws !== sock) { return; }
      ws = null;
      scheduleReconnect();
    };
  }

  function onFrame(sock, raw) {
    var msg;
    try { msg = JSON.parse(raw); } catch (e) { return; }
    if (!msg || typeof msg !== 'object') { return; }
    switch (msg.type) {
      case 'connection_ack':
        subId = uuid();
        sock.send(JSON.stringify({ type: 'subscribe', id: subId, channel: cfg.channel, authorization: authorization() }));
        break;
      case 'subscribe_success':
        if (msg.id === subId) {
          delay = 250;
          showError('');
          setStatus('connected', 'Live');
        }
        break;
      case 'data':
        if (msg.id === subId) { receive(msg.event); }
        break;
      case 'publish_success':
        published(msg);
        break;
      case 'publish_error':
        publishFailed(msg.id, msg.errors);
        break;
      case 'subscribe_error':
      case 'connection_error':
        showError(describe(msg.errors));
        reopen();
        break;
      case 'error':
        if (msg.id && pending[msg.id]) { publishFailed(msg.id, msg.errors); } else { showError(describe(msg.errors)); }
        break;
    }
  }

  function published(msg) {
    var p = pending[msg.id];
    delete pending[msg.id];
    if (p && msg.failed && msg.failed.length) {
      showError('Not delivered: ' + msg.failed.map(function (f) { return f.message || f.code; }).join('; '));
    }
  }

  // publishFailed retries once with a fresh token when the token was the
  // problem (it may have expired since the socket opened).
  function publishFailed(id, errors) {
    var p = pending[id];
    delete pending[id];
    if (p && !p.retried && isUnauthorized(errors)) {
      fetchToken().then(function (t) {
        token = t;
        publish(p.text, true);
      }, function () { showError('Not sent: ' + describe(errors)); });
      return;
    }
    showError('Not sent: ' + describe(errors));
  }

  function publish(text, retried) {
    if (!ws || ws.readyState !== WebSocket.OPEN) { showError('Not connected.'); return false; }
    var id = uuid();
    pending[id] = { text: text, retried: !!retried };
    var event = JSON.stringify({ from: cfg.email, text: text, sentAt: new Date().toISOString() });
    ws.send(JSON.stringify({ type: 'publish', id: id, channel: cfg.channel, events: [event], authorization: authorization() }));
    return true;
  }

  // receive renders one event. Its sender is what the publishing page put
  // in the payload; it is shown as text, never as HTML.
  function receive(raw) {
    var ev = raw;
    if (typeof raw === 'string') {
      try { ev = JSON.parse(raw); } catch (e) { return; }
    }
    if (!ev || typeof ev !== 'object' || typeof ev.text !== 'string') { return; }
    var from = typeof ev.from === 'string' ? ev.from : 'unknown';
    var li = document.createElement('li');
    li.className = 'message';
    li.setAttribute('data-testid', 'live-message');
    li.dataset.from = from;
    li.dataset.mine = String(from === cfg.email);
    var meta = document.createElement('div');
    meta.className = 'meta';
    var who = document.createElement('span');
    who.className = 'from';
    who.setAttribute('data-testid', 'live-message-from');
    who.textContent = from;
    meta.appendChild(who);
    var at = Date.parse(ev.sentAt);
    if (!isNaN(at)) {
      var time = document.createElement('time');
      time.dateTime = new Date(at).toISOString();
      time.textContent = new Date(at).toLocaleTimeString();
      meta.appendChild(time);
    }
    var body = document.createElement('p');
    body.className = 'text';
    body.setAttribute('data-testid', 'live-message-text');
    body.textContent = ev.text.slice(0, MAX_TEXT);
    li.appendChild(meta);
    li.appendChild(body);
    list.appendChild(li);
    while (list.children.length > MAX_MESSAGES) { list.removeChild(list.firstChild); }
    list.scrollTop = list.scrollHeight;
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var text = input.value.trim().slice(0, MAX_TEXT);
    if (!text) { return; }
    if (publish(text, false)) {
      input.value = '';
      showError('');
    }
  });

  connect();
})();
