// 实时监控: follow the board's Server-Sent Events and put each new board in place (templates/monitor.html).
(function () {
  "use strict";
  var root = document.getElementById("monitor");
  if (!root || !window.EventSource) return;
  var state = document.getElementById("monitor-state");
  var FIELDS = ["waiting", "longest_wait_seconds", "today.offered", "today.answered", "today.abandoned",
    "today.connection_rate", "today.within_rate", "recent.offered", "recent.answered"];
  var FORMATS = { longest_wait_seconds: "secs", "today.connection_rate": "pct", "today.within_rate": "pct" };

  function pick(data, path) {
    return path.split(".").reduce(function (v, k) { return v == null ? null : v[k]; }, data);
  }
  function show(value, format) {
    if (value === null || value === undefined) return "—";
    if (format === "pct") return (value * 100).toFixed(1) + "%";
    if (format === "secs") return Math.floor(value) + " 秒";
    if (format === "time") return String(value).slice(11, 19);
    return String(value);
  }
  function say(text, name) {
    if (!state) return;
    state.textContent = text;
    state.setAttribute("data-state", name);
  }
  function rows(id, items, key, label) {
    var body = document.querySelector("#" + id + " tbody");
    if (!body) return;
    var fresh = document.createDocumentFragment();
    items.forEach(function (item) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-key", item[key]);
      var first = document.createElement("td");
      first.setAttribute("data-field", "name");
      first.textContent = label(item);
      tr.appendChild(first);
      FIELDS.forEach(function (path) {
        var td = document.createElement("td");
        td.setAttribute("data-field", path.replace("today.", "").replace("recent.", "recent_"));
        td.textContent = show(pick(item, path), FORMATS[path]);
        tr.appendChild(td);
      });
      fresh.appendChild(tr);
    });
    body.replaceChildren(fresh);
  }
  var AGENT_FIELDS = ["agent", "name", "label", "state_seconds", "answered", "signed_in_seconds", "busy_seconds",
    "wrap_up_seconds", "not_ready_seconds", "utilization"];
  var AGENT_FORMATS = { state_seconds: "hms", signed_in_seconds: "hms", busy_seconds: "hms", wrap_up_seconds: "hms",
    not_ready_seconds: "hms", utilization: "pct" };
  function hms(value) {
    var w = Math.floor(value);
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    return Math.floor(w / 3600) + ":" + two(Math.floor(w / 60) % 60) + ":" + two(w % 60);
  }
  function agents(block) {
    var body = document.querySelector("#monitor-agents tbody");
    if (!block || !body) return;
    var fresh = document.createDocumentFragment();
    block.rows.forEach(function (item) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-key", item.agent);
      tr.setAttribute("data-state", item.state);
      AGENT_FIELDS.forEach(function (name) {
        var td = document.createElement("td");
        var value = item[name];
        td.setAttribute("data-field", name);
        td.textContent = AGENT_FORMATS[name] === "hms" && value != null ? hms(value) : show(value, AGENT_FORMATS[name]);
        tr.appendChild(td);
      });
      fresh.appendChild(tr);
    });
    body.replaceChildren(fresh);
    var reasons = document.getElementById("monitor-agent-reasons");
    if (reasons) {
      reasons.textContent = block.counts.not_ready_reasons.map(function (r) { return r.reason + " " + r.agents; })
        .join("，") || "—";
    }
  }
  function update(board) {
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      el.textContent = show(pick(board, el.getAttribute("data-figure")), el.getAttribute("data-format"));
    });
    rows("monitor-regions", board.regions, "code", function (r) { return r.name; });
    rows("monitor-lines", board.lines, "dialed", function (l) { return l.name ? l.dialed + " " + l.name : l.dialed; });
    agents(board.agents);
    say("（实时更新中）", "live");
  }

  var source = new EventSource(root.getAttribute("data-stream"));
  source.onmessage = function (event) { update(JSON.parse(event.data)); };
  source.addEventListener("failed", function (event) { say("（" + JSON.parse(event.data).message + "）", "failed"); });
  source.onerror = function () { say("（连接中断，正在重新连接…）", "reconnecting"); };
})();
