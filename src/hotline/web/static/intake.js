// The 受理 page's advice panel: while the agent types the demand, ask the dispatch helper
// (POST /api/dispatch/suggest) and show its answer beside the form. Advice is a help only: nothing here
// stops, delays or changes sending the form, and a failed request just says the advice is unavailable.
(function () {
  "use strict";
  var form = document.getElementById("intake");
  var panel = document.getElementById("advice");
  if (!form || !panel || !window.fetch) return;

  var MIN_LENGTH = 5;
  var DELAY_MS = 600;
  var REASONS = {
    "same-phone": "同一来电号码",
    "same-place": "同一地点",
    "similar-text": "内容相似",
    "stands-out": "内容最接近",
  };
  var copyable = JSON.parse(form.dataset.copyable || "[]");
  var timer = null;
  var asked = 0; // the latest request: an older answer arriving late is dropped
  var lastKey = "";

  function field(name) {
    return form.elements.namedItem(name);
  }
  function value(name) {
    var el = field(name);
    return el ? el.value.trim() : "";
  }
  function part(name) {
    return panel.querySelector('[data-field="' + name + '"]');
  }
  function percent(x) {
    return Math.round(Number(x) * 100) + "%";
  }
  function element(tag, text, className) {
    var el = document.createElement(tag);
    if (text) el.textContent = text;
    if (className) el.className = className;
    return el;
  }
  function setState(state, message) {
    panel.dataset.state = state;
    part("advice-status").textContent = message;
    part("advice-status").hidden = !message;
    part("advice-body").hidden = state !== "shown";
  }

  function copyButton(category, label) {
    // The 分类 field takes a path of the category tree: copy only a name the tree holds.
    if (copyable.indexOf(category) < 0) return element("span", label || category);
    var button = element("button", label || category, "copy");
    button.type = "button";
    button.dataset.category = category;
    button.title = "填入分类";
    button.addEventListener("click", function () {
      field("category").value = category;
    });
    return button;
  }

  function show(advice) {
    part("category").textContent = advice.category;
    part("confidence").textContent = percent(advice.confidence);
    part("manual").hidden = !advice.manual;
    part("unit").textContent = advice.unit ? advice.unit.name : "派单目录中未找到，请人工选择";

    var top3 = part("top3");
    top3.replaceChildren();
    (advice.top3 || []).forEach(function (ranked) {
      var item = element("li");
      item.dataset.category = ranked.category;
      item.append(copyButton(ranked.category), " " + percent(ranked.confidence));
      top3.append(item);
    });

    var repeats = part("repeats");
    repeats.replaceChildren();
    var role = value("role");
    (advice.repeats || []).forEach(function (match) {
      var item = element("li");
      item.dataset.number = match.number;
      var link = element("a", match.number);
      link.href = "/orders/" + encodeURIComponent(match.number) + (role ? "?role=" + encodeURIComponent(role) : "");
      link.target = "_blank"; // the form being typed stays open
      link.rel = "noopener";
      var why = (match.reasons || []).map(function (r) {
        return REASONS[r] || r;
      });
      var reasons = element("span", "（" + why.join("、") + "，相似度 " + percent(match.similarity) + "）");
      reasons.dataset.field = "why";
      item.append(link, reasons);
      if (match.excerpt) item.append(element("div", match.excerpt, "muted"));
      repeats.append(item);
    });
    if (!repeats.children.length) repeats.append(element("li", "未发现", "muted"));

    part("notes").textContent = (advice.notes || []).join("；");
    setState("shown", "");
  }

  function unavailable(message) {
    lastKey = ""; // asked again on the next change or blur
    setState("unavailable", "派单建议暂不可用" + (message ? "（" + message + "）" : "") + "，可继续受理。");
  }

  function ask() {
    clearTimeout(timer);
    timer = null;
    var text = value("content");
    if (text.length < MIN_LENGTH) {
      lastKey = "";
      asked += 1;
      setState("idle", "输入诉求内容（至少 5 个字）后显示派单建议。");
      return;
    }
    var payload = {
      text: text,
      region_code: value("region") || null,
      line: value("line") || null,
      phone: value("phone") || null,
      place: value("place") || null,
    };
    var key = JSON.stringify(payload);
    if (key === lastKey) return;
    lastKey = key;
    var mine = ++asked;
    if (panel.dataset.state !== "shown") setState("loading", "正在分析…");
    fetch("/api/dispatch/suggest", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: key,
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            if (mine !== asked) return;
            if (!response.ok || !data || data.error || !data.category) unavailable(data && data.message);
            else show(data);
          });
      })
      .catch(function () {
        if (mine === asked) unavailable("");
      });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(ask, DELAY_MS);
  }

  var content = field("content");
  content.addEventListener("input", later);
  content.addEventListener("blur", ask);
  ["region", "phone", "place", "line"].forEach(function (name) {
    var el = field(name);
    if (el) el.addEventListener("change", later);
  });
  panel.dataset.state = "idle";
  // A form shown again after an error keeps its content: its advice is asked for at once.
  if (value("content").length >= MIN_LENGTH) ask();
})();
