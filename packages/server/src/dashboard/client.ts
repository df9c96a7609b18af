import { pagesSource } from "./clientPages.js"

/**
 * The dashboard's script, as the page embeds it after the views (`VIEWS` is
 * replaced by their source). Plain browser JavaScript, no build step:
 *
 * - calls the JSON API with `Authorization: Bearer <token>` when the operator
 *   has entered a token (asked for once, kept in `sessionStorage`);
 * - follows `GET /api/v1/events` with `fetch()` and a stream reader (an
 *   `EventSource` cannot send the header), parsing `id:`/`event:`/`data:`
 *   lines, and after a drop reconnects with `Last-Event-ID`;
 * - on events, marks the affected parts of the page stale, and after a short
 *   pause reads their JSON again and replaces the parts whose HTML changed;
 * - sends Trigger and Cancel.
 *
 * `window.foremanDashboard` exposes the state of the stream and `drop()`,
 * which breaks the connection as a network failure would (for tests).
 */
export const clientScript = String.raw`(function () {
  "use strict";
  var V = (VIEWS)();
  var body = document.body;
  var page = body.dataset.page;
  var researchId = body.dataset.research || "";
  var TOKEN_KEY = "foreman.operatorToken";
  var token = sessionStorage.getItem(TOKEN_KEY) || "";
  var state = {};
  var view = document.getElementById("view");

  // --- messages and the token ------------------------------------------------

  function notify(html, kind) {
    var notice = document.getElementById("notice");
    notice.className = "notice " + (kind || "info");
    notice.innerHTML = html;
    notice.hidden = false;
  }

  function askToken(why) {
    var form = document.getElementById("token-form");
    form.querySelector(".why").textContent = why;
    form.hidden = false;
    form.querySelector("input").focus();
  }

  function setToken(value) {
    token = value;
    if (value) sessionStorage.setItem(TOKEN_KEY, value); else sessionStorage.removeItem(TOKEN_KEY);
    document.getElementById("forget-token").hidden = !value;
  }

  function headers(extra) {
    var h = Object.assign({ accept: "application/json" }, extra || {});
    if (token) h.authorization = "Bearer " + token;
    return h;
  }

  function ApiError(status, message) { this.status = status; this.message = message; }

  /** Calls the API (relative to the dashboard's root): the JSON answer, or an ApiError. */
  function api(path, init) {
    init = init || {};
    var extra = init.body === undefined ? {} : { "content-type": "application/json" };
    var sent = token;
    return fetch("api/v1/" + path, Object.assign({}, init, { headers: headers(extra), cache: "no-store" }))
      .then(function (res) {
        return res.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
          // A refusal of a token since replaced says nothing about the new one.
          if ((res.status === 401 || res.status === 403) && sent === token) {
            askToken(res.status === 403 ? "That token is not the operator token." :
              token ? "The server refused that token." : "This server needs the operator token.");
          }
          if (!res.ok) throw new ApiError(res.status, (data && data.message) || res.statusText || ("HTTP " + res.status));
          return data;
        });
      });
  }

  // --- reading and rendering parts ---------------------------------------------

${pagesSource}
  var current = pages[page];

  /** Replaces the parts of the view whose HTML changed (the whole view when it has none of them yet). */
  function swap(html) {
    var next = document.createElement("div");
    next.innerHTML = html;
    var incoming = next.querySelectorAll("[data-part]");
    var complete = incoming.length > 0;
    incoming.forEach(function (part) {
      if (!view.querySelector('[data-part="' + part.dataset.part + '"]')) complete = false;
    });
    if (!complete) { view.innerHTML = html; return; }
    incoming.forEach(function (part) {
      var old = view.querySelector('[data-part="' + part.dataset.part + '"]');
      if (old.innerHTML !== part.innerHTML) old.innerHTML = part.innerHTML;
    });
  }

  var stale = new Set();
  var timer = null;
  var busy = false;

  /** Marks parts stale; they are read again and rendered after a short pause. */
  function invalidate(parts) {
    parts.forEach(function (p) { stale.add(p); });
    if (stale.size > 0 && timer === null && !busy) timer = setTimeout(refresh, 200);
  }

  function refresh() {
    timer = null;
    var names = Array.from(stale);
    stale.clear();
    busy = true;
    return Promise.all(names.map(function (n) { return current.read[n](); }))
      .then(function () { swap(current.render()); body.dataset.loaded = "true"; })
      .catch(function (e) {
        if (e instanceof ApiError && e.status === 404) notify(V.esc(e.message), "error");
        else if (!(e instanceof ApiError && (e.status === 401 || e.status === 403))) {
          notify("Could not read the state: " + V.esc(e && e.message ? e.message : String(e)), "error");
        }
      })
      .then(function () {
        busy = false;
        if (stale.size > 0) invalidate([]);
      });
  }

  function refreshAll() { invalidate(current.parts); }

  // --- the event stream --------------------------------------------------------

  var live = document.getElementById("live");
  var stream = { lastEventId: null, connections: 0, events: 0, controller: null, state: "off" };

  function setLive(s, text) {
    stream.state = s;
    live.className = "live " + s;
    live.textContent = text;
  }

  function handle(name, data) {
    stream.events++;
    if (name === "connected" || name === "reset") { refreshAll(); return; }
    invalidate(current.affected(name, data));
  }

  /** Reads one connection until it ends; resolves with "refused" when the token is refused. */
  function connect() {
    var controller = new AbortController();
    stream.controller = controller;
    var extra = { accept: "text/event-stream" };
    if (stream.lastEventId) extra["last-event-id"] = stream.lastEventId;
    var h = headers(extra);
    var sent = token;
    return fetch("api/v1/events", { headers: h, signal: controller.signal, cache: "no-store" }).then(function (res) {
      if (res.status === 401 || res.status === 403) {
        if (sent !== token) throw new Error("token replaced");
        askToken(res.status === 403 ? "That token is not the operator token." : token ? "The server refused that token." : "This server needs the operator token.");
        return "refused";
      }
      if (!res.ok || !res.body) throw new Error("HTTP " + res.status);
      stream.connections++;
      setLive("on", "live");
      var reader = res.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      var ev = { id: null, event: "", data: [] };
      function line(text) {
        if (text === "") {
          if (ev.id !== null) stream.lastEventId = ev.id;
          if (ev.data.length > 0 || ev.event) {
            var data = null;
            try { data = JSON.parse(ev.data.join("\n")); } catch (e) { data = ev.data.join("\n"); }
            handle(ev.event || "message", data);
          }
          ev = { id: null, event: "", data: [] };
          return;
        }
        if (text.charAt(0) === ":") return;
        var colon = text.indexOf(":");
        var field = colon < 0 ? text : text.slice(0, colon);
        var value = colon < 0 ? "" : text.slice(colon + 1);
        if (value.charAt(0) === " ") value = value.slice(1);
        if (field === "id") ev.id = value;
        else if (field === "event") ev.event = value;
        else if (field === "data") ev.data.push(value);
      }
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) return "ended";
          buffer += decoder.decode(chunk.value, { stream: true });
          var lines = buffer.split(/\r\n|\r|\n/);
          buffer = lines.pop();
          lines.forEach(line);
          return pump();
        });
      }
      return pump();
    });
  }

  var following = false;
  function follow() {
    if (following) return;
    following = true;
    var delay = 1000;
    function again() {
      connect().then(function (outcome) {
        if (outcome === "refused") { following = false; setLive("off", "no token"); return; }
        delay = 1000;
        retry();
      }, function () { retry(); });
    }
    function retry() {
      setLive("retry", "reconnecting…");
      setTimeout(again, delay);
      delay = Math.min(delay * 2, 10000);
    }
    again();
  }

  window.foremanDashboard = {
    stream: stream,
    /** Breaks the event stream's connection, as a network failure would. */
    drop: function () { if (stream.controller) stream.controller.abort(); }
  };

  // --- actions ---------------------------------------------------------------

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.id === "token-form") {
      e.preventDefault();
      setToken(form.querySelector("input").value.trim());
      form.hidden = true;
      form.reset();
      document.getElementById("notice").hidden = true;
      refreshAll();
      if (stream.controller) stream.controller.abort();
      follow();
    } else if (form.id === "trigger-form") {
      e.preventDefault();
      var brief = form.querySelector("textarea").value.trim();
      var button = form.querySelector("button");
      button.disabled = true;
      var request = form.dataset.parent ? { brief: brief, parentId: form.dataset.parent } : { brief: brief };
      api("agent/trigger", { method: "POST", body: JSON.stringify(request) }).then(function (r) {
        notify("Triggered " + '<a class="mono" href="researches/' + encodeURIComponent(r.researchId) + '">' + V.esc(r.researchId) + "</a> (" + V.esc(r.status) + ")", "ok");
        if (page !== "research") form.reset();
        refreshAll();
      }, function (err) {
        notify("Not triggered: " + V.esc(err.message), "error");
      }).then(function () { button.disabled = false; });
    }
  });

  document.addEventListener("click", function (e) {
    var target = e.target;
    if (target.id === "forget-token") {
      setToken("");
      askToken("The token was forgotten: enter it again to see the state.");
      return;
    }
    var id = target.dataset && target.dataset.cancel;
    if (!id) return;
    if (!confirm("Cancel " + id + "?")) return;
    target.disabled = true;
    api("agent/researches/" + encodeURIComponent(id), { method: "DELETE" }).then(function (r) {
      notify("Cancelled " + V.esc(r.id), "ok");
      refreshAll();
    }, function (err) {
      target.disabled = false;
      notify("Not cancelled: " + V.esc(err.message), "error");
    });
  });

  // --- start -----------------------------------------------------------------

  setToken(token);
  if (body.dataset.auth === "token" && !token) {
    askToken("This server needs the operator token (kept in this tab only).");
  } else {
    follow();
  }
})();
`
