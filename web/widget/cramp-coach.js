/*
 * Cramp Coach chat widget. Embed with one tag:
 *   <script src="https://assistant.example/widget/cramp-coach.js"
 *           data-server-url="https://assistant.example:5005"
 *           data-title="Cramp Coach" data-initial-message="hi" defer></script>
 * It speaks Rasa's socket.io protocol (session_request / session_confirm /
 * user_uttered / bot_uttered) through socket.io-client, served beside this file.
 * Every text is put into the page as text, never as HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.CrampCoachWidget) return;
  var base = script.src.replace(/[^/]*$/, "");
  var options = {
    serverUrl: script.getAttribute("data-server-url") || "http://127.0.0.1:5005",
    title: script.getAttribute("data-title") || "Cramp Coach",
    initialMessage: script.getAttribute("data-initial-message") || "hi",
    open: script.getAttribute("data-open") !== "false"
  };
  var STORE_KEY = "cramp-coach:" + options.serverUrl;
  var MAX_KEPT = 200;
  var OFFLINE_TEXT =
    "Can't reach Cramp Coach right now. Trying to reconnect\u2026 " +
    "If this is an emergency, call your local emergency number (112, 911 or 999).";

  // ------------------------------------------------------------------ state
  // sessionStorage: kept across reloads of this tab, never shared with other tabs.
  function loadState() {
    try {
      var saved = JSON.parse(window.sessionStorage.getItem(STORE_KEY) || "null");
      if (saved && Array.isArray(saved.messages)) return saved;
    } catch (ignored) { /* a broken store starts a new conversation */ }
    return { sessionId: null, messages: [] };
  }
  function saveState() {
    state.messages = state.messages.slice(-MAX_KEPT);
    try { window.sessionStorage.setItem(STORE_KEY, JSON.stringify(state)); } catch (ignored) { /* private mode */ }
  }
  var state = loadState();

  // ------------------------------------------------------------------ DOM helpers
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var URL_PATTERN = /(https?:\/\/[^\s<>"')]+)/g;

  // Inline text: **bold** and http(s) links, built from text nodes only.
  function appendInline(parent, text) {
    var parts = text.split(/(\*\*[^*]+\*\*)/g);
    parts.forEach(function (part) {
      if (/^\*\*[^*]+\*\*$/.test(part)) {
        parent.appendChild(el("strong", null, part.slice(2, -2)));
        return;
      }
      part.split(URL_PATTERN).forEach(function (piece) {
        if (!piece) return;
        if (/^https?:\/\//.test(piece)) {
          var link = el("a", null, piece);
          link.href = piece;
          link.target = "_blank";
          link.rel = "noopener noreferrer";
          parent.appendChild(link);
        } else {
          parent.appendChild(document.createTextNode(piece));
        }
      });
    });
  }

  // Lines starting with a bullet become a list; other lines paragraphs.
  function renderText(container, text) {
    var list = null;
    String(text).split("\n").forEach(function (line) {
      var bullet = /^\s*(?:[\u2022*-])\s+(.*)$/.exec(line);
      if (bullet) {
        if (!list) { list = el("ul"); container.appendChild(list); }
        var item = el("li");
        appendInline(item, bullet[1]);
        list.appendChild(item);
      } else if (line.trim()) {
        list = null;
        var paragraph = el("p");
        appendInline(paragraph, line);
        container.appendChild(paragraph);
      }
    });
  }

  // ------------------------------------------------------------------ the widget
  var root = el("div", "cc-widget");
  root.setAttribute("data-cramp-coach", "");
  var launcher = el("button", "cc-launcher", "Ask " + options.title);
  launcher.type = "button";
  launcher.setAttribute("aria-controls", "cc-panel");
  var panel = el("section", "cc-panel");
  panel.id = "cc-panel";
  panel.setAttribute("aria-label", options.title + " chat");

  var header = el("header", "cc-header");
  var heading = el("h2", "cc-title", options.title);
  var restart = el("button", "cc-restart", "Start over");
  restart.type = "button";
  restart.title = "Start a new conversation";
  var close = el("button", "cc-close", "\u00D7");
  close.type = "button";
  close.setAttribute("aria-label", "Close the chat");
  header.appendChild(heading);
  header.appendChild(restart);
  header.appendChild(close);

  var disclaimer = el("p", "cc-disclaimer",
    "General information, not a doctor. In an emergency, call your local emergency number.");
  var status = el("div", "cc-status", OFFLINE_TEXT);
  status.setAttribute("role", "alert");
  status.hidden = true;
  var log = el("div", "cc-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", "Conversation");
  log.tabIndex = 0;
  var typing = el("div", "cc-typing");
  typing.setAttribute("aria-label", options.title + " is typing");
  typing.appendChild(el("span"));
  typing.appendChild(el("span"));
  typing.appendChild(el("span"));
  typing.hidden = true;

  var form = el("form", "cc-form");
  var label = el("label", "cc-visually-hidden", "Your message");
  label.htmlFor = "cc-input";
  var input = el("input", "cc-input");
  input.id = "cc-input";
  input.type = "text";
  input.maxLength = 1000;
  input.autocomplete = "off";
  input.placeholder = "Type your question\u2026";
  var send = el("button", "cc-send", "Send");
  send.type = "submit";
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(send);

  [header, disclaimer, status, log, typing, form].forEach(function (part) { panel.appendChild(part); });
  root.appendChild(launcher);
  root.appendChild(panel);

  function setOpen(open, moveFocus) {
    panel.hidden = !open;
    launcher.hidden = open;  // the panel has its own close button
    launcher.setAttribute("aria-expanded", String(open));
    if (moveFocus === false) return;
    if (open) input.focus(); else launcher.focus();
  }
  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  close.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") setOpen(false);
  });

  // ------------------------------------------------------------------ messages
  function scrollToEnd() { log.scrollTop = log.scrollHeight; }

  function showMessage(message, withReplies) {
    var bubble = el("div", "cc-msg cc-msg--" + message.who);
    if (message.severity) {
      bubble.className += " cc-msg--" + message.severity;
      if (message.severity === "emergency" || message.severity === "urgent") {
        bubble.className += " cc-msg--alert";
        bubble.setAttribute("role", "alert");
      }
    }
    var body = el("div", "cc-text");
    if (message.who === "bot") renderText(body, message.text); else body.textContent = message.text;
    bubble.appendChild(body);
    log.appendChild(bubble);
    if (withReplies && message.replies && message.replies.length) {
      var group = el("div", "cc-replies");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Suggested replies");
      message.replies.forEach(function (reply) {
        var button = el("button", "cc-reply", reply.title);
        button.type = "button";
        button.addEventListener("click", function () {
          group.remove();
          sendToBot(reply.payload, reply.title);
          input.focus();
        });
        group.appendChild(button);
      });
      log.appendChild(group);
    }
    scrollToEnd();
  }

  function removeReplies() {
    var groups = log.querySelectorAll(".cc-replies");
    Array.prototype.forEach.call(groups, function (group) { group.remove(); });
  }

  function record(message) {
    state.messages.push(message);
    saveState();
  }

  function renderHistory() {
    log.textContent = "";
    state.messages.forEach(function (message, index) {
      showMessage(message, index === state.messages.length - 1);
    });
  }

  var typingTimer = null;
  function setTyping(on) {
    typing.hidden = !on;
    window.clearTimeout(typingTimer);
    if (on) typingTimer = window.setTimeout(function () { typing.hidden = true; }, 20000);
  }

  // ------------------------------------------------------------------ talking to Rasa
  var socket = null;
  var pending = [];

  function metadata() {
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (ignored) { /* old browser */ }
    return { locale: navigator.language || "", time_zone: zone };
  }

  function emit(text) {
    if (socket && socket.connected && state.sessionId) {
      socket.emit("user_uttered", { message: text, session_id: state.sessionId, metadata: metadata() });
    } else {
      pending.push(text);
    }
  }

  function sendToBot(text, shown) {
    removeReplies();
    var message = { who: "user", text: shown || text };
    record(message);
    showMessage(message, false);
    setTyping(true);
    emit(text);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    sendToBot(text);
  });

  restart.addEventListener("click", function () {
    state = { sessionId: null, messages: [] };
    saveState();
    renderHistory();
    if (socket && socket.connected) socket.emit("session_request", { session_id: null });
    input.focus();
  });

  function onBotMessage(data) {
    if (!data || typeof data !== "object") return;
    var replies = (data.quick_replies || data.buttons || []).map(function (reply) {
      return { title: String(reply.title || ""), payload: String(reply.payload || "") };
    });
    // Extra fields travel in `metadata`, where other Rasa clients ignore them.
    var meta = data.metadata && typeof data.metadata === "object" ? data.metadata : {};
    var message = {
      who: "bot",
      text: String(data.text || ""),
      severity: typeof meta.severity === "string" ? meta.severity : null,
      replies: replies
    };
    if (!message.text && !replies.length) return;
    removeReplies();
    if (meta.forgotten === true) {
      // The server deleted the conversation: keep nothing of it in this tab either.
      state.messages = [];
      renderHistory();
    }
    record(message);
    showMessage(message, true);
    // More parts of the answer may follow; hide the dots when they stop coming.
    setTyping(true);
    window.clearTimeout(typingTimer);
    typingTimer = window.setTimeout(function () { typing.hidden = true; }, 600);
  }

  function connect() {
    /* global io */
    socket = io(options.serverUrl, { reconnectionDelayMax: 5000 });
    socket.on("connect", function () {
      status.hidden = true;
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", function (sessionId) {
      var isNew = sessionId !== state.sessionId;
      state.sessionId = sessionId;
      if (isNew && state.messages.length && !pending.length) {
        // The server no longer knows this conversation: start cleanly.
        state.messages = [];
        renderHistory();
      }
      saveState();
      if (!state.messages.length && !pending.length) {
        setTyping(true);
        pending.push(options.initialMessage);
      }
      var queued = pending;
      pending = [];
      queued.forEach(emit);
    });
    socket.on("bot_uttered", onBotMessage);
    socket.on("disconnect", function () { status.hidden = false; });
    socket.on("connect_error", function () { status.hidden = false; setTyping(false); });
  }

  function loadScript(src, onload) {
    if (window.io) { onload(); return; }
    var tag = document.createElement("script");
    tag.src = src;
    tag.onload = onload;
    tag.onerror = function () { status.hidden = false; };
    document.head.appendChild(tag);
  }

  function start() {
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = base + "cramp-coach.css";
    document.head.appendChild(css);
    document.body.appendChild(root);
    renderHistory();
    setOpen(options.open, false);
    loadScript(base + "vendor/socket.io.min.js", connect);
  }

  window.CrampCoachWidget = { version: "1.0.0" };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
