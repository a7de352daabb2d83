// The 受理 page's side panels: while the agent types the demand, ask the dispatch helper
// (POST /api/dispatch/suggest) and the knowledge base (GET /api/kb/search) and show their answers beside the
// form; an article's answer can be adopted as the reply for 直接办结. Once the caller's number is known, list
// their earlier orders (GET /api/orders?phone=…). All are a help only: nothing here stops, delays or changes
// sending the form, and a failed request just says that help is unavailable.
(function () {
  "use strict";
  var form = document.getElementById("intake");
  var panel = document.getElementById("advice");
  var kb = document.getElementById("kb");
  var callers = document.getElementById("caller-history");
  if (!form || !panel || !kb || !window.fetch) return;

  var MIN_LENGTH = 5;
  var DELAY_MS = 600;
  var KB_TOP = 3;
  // The query travels in the URL: its start is enough to find the articles, and a whole long demand could
  // make the request line longer than the server takes.
  var KB_QUERY_MAX = 300;
  var REASONS = {
    "same-phone": "同一来电号码",
    "same-place": "同一地点",
    "similar-text": "内容相似",
    "stands-out": "内容最接近",
  };
  var copyable = JSON.parse(form.dataset.copyable || "[]");
  var directRoles = JSON.parse(form.dataset.directRoles || "[]");
  var timer = null;
  var asked = 0; // the latest request: an older answer arriving late is dropped
  var lastKey = "";
  var searched = 0; // the same for the knowledge search
  var lastQuery = "";
  var adopted = ""; // the answer text last adopted, dropped with its article while the agent left it as it was
  var HISTORY_LIMIT = 10;
  var EXCERPT = 40;
  var looked = 0; // the same for the caller's earlier orders
  var lastLookup = "";

  function field(name) {
    return form.elements.namedItem(name);
  }
  function value(name) {
    var el = field(name);
    return el ? el.value.trim() : "";
  }
  // The three panels (派单建议, 知识库参考, 来电人历史工单) and the form name their parts by data-field, and each
  // panel shows a status line and a body, the body only once something is shown.
  function within(root, name) {
    return root.querySelector('[data-field="' + name + '"]');
  }
  function panelState(root, statusName, bodyName) {
    return function (state, message) {
      root.dataset.state = state;
      within(root, statusName).textContent = message;
      within(root, statusName).hidden = !message;
      within(root, bodyName).hidden = state !== "shown";
    };
  }
  function orderItem(number, role) {
    // A list item naming an order, linked to its page as ROLE; the page opens beside the form being typed.
    var item = element("li");
    item.dataset.number = number;
    var link = element("a", number);
    link.href = "/orders/" + encodeURIComponent(number) + (role ? "?role=" + encodeURIComponent(role) : "");
    link.target = "_blank";
    link.rel = "noopener";
    item.append(link);
    return item;
  }
  var part = within.bind(null, panel);
  var kbPart = within.bind(null, kb);
  var formPart = within.bind(null, form);
  var historyPart = within.bind(null, callers);
  var setState = panelState(panel, "advice-status", "advice-body");
  var kbState = panelState(kb, "kb-status", "kb-hits");
  var historyState = panelState(callers, "history-status", "history-orders");
  function percent(x) {
    return Math.round(Number(x) * 100) + "%";
  }
  function element(tag, text, className) {
    var el = document.createElement(tag);
    if (text) el.textContent = text;
    if (className) el.className = className;
    return el;
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
      var item = orderItem(match.number, role);
      var why = (match.reasons || []).map(function (r) {
        return REASONS[r] || r;
      });
      var reasons = element("span", "（" + why.join("、") + "，相似度 " + percent(match.similarity) + "）");
      reasons.dataset.field = "why";
      item.append(reasons);
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

  // -- 知识库参考 ------------------------------------------------------------------------------------------
  function marked(snippet) {
    // The search marks matched runs with <mark>; everything else is text, never markup.
    var box = element("div", "", "excerpt muted");
    String(snippet || "")
      .split(/<\/?mark>/)
      .forEach(function (run, i) {
        if (run) box.append(i % 2 ? element("mark", run) : document.createTextNode(run));
      });
    return box;
  }

  function noteArticle(id, title) {
    formPart("article-id").textContent = id;
    formPart("article-title").textContent = title ? "《" + title + "》" : "";
    formPart("article-note").hidden = !id;
  }

  function adopt(hit, button) {
    // The hit holds a snippet only: the answer itself is the article's whole text.
    button.disabled = true;
    fetch("/api/kb/articles/" + encodeURIComponent(hit.article_id), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().then(function (article) {
          if (!response.ok || !article || typeof article.body !== "string") throw new Error("unavailable");
          var reply = field("reply");
          reply.value = reply.maxLength > 0 ? article.body.slice(0, reply.maxLength) : article.body;
          adopted = reply.value;
          field("article").value = article.external_id || hit.article_id;
          noteArticle(field("article").value, article.title);
        });
      })
      .catch(function () {
        kbPart("kb-status").textContent = "知识库暂不可用，未能采用此答复。";
        kbPart("kb-status").hidden = false;
      })
      .then(function () {
        button.disabled = false;
      });
  }

  function showHits(hits) {
    var list = kbPart("kb-hits");
    list.replaceChildren();
    hits.slice(0, KB_TOP).forEach(function (hit) {
      var item = element("li");
      item.dataset.article = hit.article_id;
      var link = element("a", hit.title);
      // The article's own page, in the role chosen; opened aside, the form being typed stays.
      link.href = "/kb/articles/" + encodeURIComponent(hit.article_id) + (value("role") ? "?role=" + encodeURIComponent(value("role")) : "");
      link.target = "_blank";
      link.rel = "noopener";
      var button = element("button", "采用此答复", "copy direct-only");
      button.type = "button";
      button.dataset.action = "adopt";
      button.addEventListener("click", function () {
        adopt(hit, button);
      });
      item.append(link, marked(hit.snippet), button);
      list.append(item);
    });
    kbState("shown", hits.length ? "" : "知识库中未找到相关知识。");
  }

  function searchKnowledge(text) {
    var params = new URLSearchParams({ q: text.slice(0, KB_QUERY_MAX), top: String(KB_TOP) });
    // The caller's region: its own articles, the province's and those for everywhere (knowledge.search).
    if (value("region")) params.set("region", value("region"));
    if (value("line")) params.set("line", value("line"));
    var query = params.toString();
    if (query === lastQuery) return;
    lastQuery = query;
    var mine = ++searched;
    if (kb.dataset.state !== "shown") kbState("loading", "正在检索…");
    fetch("/api/kb/search?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (data) {
          if (mine !== searched) return;
          if (!response.ok || !data || !Array.isArray(data.results)) throw new Error("unavailable");
          showHits(data.results);
        });
      })
      .catch(function () {
        if (mine !== searched) return;
        lastQuery = ""; // searched again on the next change or blur
        kbState("unavailable", "知识库暂不可用，可继续受理。");
      });
  }

  // -- 来电人历史工单 --------------------------------------------------------------------------------------
  function plausiblePhone(text) {
    // What create_order takes as a number (service.check_phone): the list refuses anything else.
    var digits = text.replace(/[ -]/g, "").replace(/^\++/, "");
    return /^[0-9]{5,20}$/.test(digits);
  }
  function excerpt(text) {
    text = String(text || "");
    return text.length > EXCERPT ? text.slice(0, EXCERPT) + "…" : text;
  }

  function showHistory(orders, total, role) {
    var list = historyPart("history-orders");
    list.replaceChildren();
    orders.forEach(function (order) {
      var item = orderItem(order.number, role);
      // created_at is China time: its first ten characters are the day the order was taken in.
      var facts = element("span", " " + String(order.created_at || "").slice(0, 10) + " " + order.type + " ");
      var state = element("span", order.state_label);
      state.dataset.field = "state";
      item.append(facts, state, element("div", excerpt(order.content), "excerpt muted"));
      list.append(item);
    });
    if (!orders.length) historyState("empty", "无历史工单");
    else historyState("shown", "共 " + total + " 张" + (total > orders.length ? "，以下为最近 " + orders.length + " 张" : ""));
  }

  function lookUpCaller() {
    if (!callers) return;
    var phone = value("phone");
    if (!plausiblePhone(phone)) {
      lastLookup = "";
      looked += 1;
      historyState("idle", "输入来电号码后显示该号码的历史工单。");
      return;
    }
    var role = value("role") || form.dataset.role || "";
    var params = new URLSearchParams({ phone: phone, limit: String(HISTORY_LIMIT), order: "newest" });
    if (role) params.set("role", role);
    var query = params.toString();
    if (query === lastLookup) return;
    lastLookup = query;
    var mine = ++looked;
    historyState("loading", "正在查询…"); // an earlier number's orders are not left showing meanwhile
    fetch("/api/orders?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (orders) {
          if (mine !== looked) return;
          if (!response.ok || !Array.isArray(orders)) throw new Error("unavailable");
          var total = parseInt(response.headers.get("X-Total-Count") || "", 10);
          showHistory(orders, isNaN(total) ? orders.length : total, role);
        });
      })
      .catch(function () {
        if (mine !== looked) return;
        lastLookup = ""; // asked again on the next change
        historyState("unavailable", "历史工单暂不可用，可继续受理。");
      });
  }

  // -- when to ask: one place for all panels --------------------------------------------------------------
  function ask() {
    clearTimeout(timer);
    timer = null;
    lookUpCaller(); // waits for the caller's number, not for the content
    var text = value("content");
    if (text.length < MIN_LENGTH) {
      lastKey = "";
      lastQuery = "";
      asked += 1;
      searched += 1;
      setState("idle", "输入诉求内容（至少 5 个字）后显示派单建议。");
      kbState("idle", "输入诉求内容（至少 5 个字）后显示相关知识。");
      return;
    }
    searchKnowledge(text);
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
  field("phone").addEventListener("input", later); // the caller's orders as soon as the number is typed
  // 直接办结 is offered to the roles the lifecycle lets take it on a just registered order.
  var role = field("role");
  if (role) {
    role.addEventListener("change", function () {
      form.closest(".intake").dataset.direct = directRoles.indexOf(role.value) >= 0 ? "yes" : "no";
      later(); // the caller's orders are listed, and linked, for the role chosen
    });
  }
  form.querySelector('[data-action="drop-article"]').addEventListener("click", function () {
    field("article").value = "";
    noteArticle("", "");
    if (adopted && field("reply").value === adopted) field("reply").value = "";
    adopted = "";
  });
  panel.dataset.state = "idle";
  kb.dataset.state = "idle";
  if (callers) callers.dataset.state = "idle";
  // A form shown again after an error keeps its content, and a call's page comes with the caller's number:
  // what they call for is asked for at once.
  if (value("content").length >= MIN_LENGTH || value("phone")) ask();
})();
