// chainbreaker web UI: no inline scripts (the CSP forbids them); everything the pages do is here.
(function () {
  "use strict";
  function cookie(name) {
    const hit = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
    return hit ? decodeURIComponent(hit.slice(name.length + 1)) : "";
  }
  function csrfHeaders(extra) {
    return Object.assign({ "X-CSRF-Token": cookie("cb_csrf") }, extra || {});
  }
  function show(el, text) { if (el) { el.textContent = text; el.hidden = false; } }
  async function errorText(resp) {
    try { const j = await resp.json(); return j.error || resp.statusText; } catch (e) { return resp.status + " " + resp.statusText; }
  }

  // htmx: every request carries the CSRF header (double submit)
  document.addEventListener("htmx:configRequest", (ev) => { ev.detail.headers["X-CSRF-Token"] = cookie("cb_csrf"); });

  function onLogin(form) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const data = new FormData(form);
      const resp = await fetch("/api/login", {
        method: "POST", credentials: "same-origin",
        headers: csrfHeaders({ "Content-Type": "application/json" }),
        body: JSON.stringify({ username: data.get("username"), password: data.get("password") }),
      });
      if (resp.ok) { window.location.assign(form.dataset.next || "/"); }
      else { show(document.getElementById("login-error"), await errorText(resp)); }
    });
  }

  function onLogout(button) {
    button.addEventListener("click", async () => {
      await fetch("/api/logout", { method: "POST", credentials: "same-origin", headers: csrfHeaders() });
      window.location.assign("/login");
    });
  }

  function onTip(form) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const resp = await fetch("/public/tips", { method: "POST", credentials: "same-origin", headers: csrfHeaders(),
        body: new FormData(form) });
      if (!resp.ok) { show(document.getElementById("tip-error"), await errorText(resp)); return; }
      const r = await resp.json();
      document.getElementById("receipt-code").textContent = r.receipt_code;
      document.getElementById("receipt-passphrase").textContent = r.passphrase;
      const list = document.getElementById("receipt-attachments");
      list.replaceChildren(...r.attachments.map((a) => {
        const li = document.createElement("li");
        li.textContent = a.name + (a.accepted ? " ✓" : " ✗ " + a.reason);
        return li;
      }));
      document.getElementById("tip-receipt").hidden = false;
      form.hidden = true;
    });
  }

  function onFollow(form) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const data = new FormData(form);
      const resp = await fetch("/public/follow", { method: "POST", credentials: "same-origin",
        headers: csrfHeaders({ "Content-Type": "application/json" }),
        body: JSON.stringify({ code: data.get("code"), passphrase: data.get("passphrase") }) });
      const out = document.getElementById("follow-status");
      if (!resp.ok) { out.hidden = true; show(document.getElementById("follow-error"), await errorText(resp)); return; }
      const r = await resp.json();
      document.getElementById("follow-error").hidden = true;
      show(out, r.receipt_code + "：" + r.status + "（" + r.received_at + "）");
    });
  }

  // casework edit forms (and any form.cb-form): posted with the CSRF header; on success the server
  // answers 303 to the page to show, on an error its message is shown beside the form
  async function messageOf(resp) {
    const type = resp.headers.get("content-type") || "";
    if (type.includes("json")) { return errorText(resp); }
    const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
    const err = doc.querySelector("main .error");
    return err ? err.textContent : resp.status + " " + resp.statusText;
  }
  function onEditForm(form) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const out = form.querySelector(".form-error");
      const button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
      try {
        const resp = await fetch(form.getAttribute("action"), { method: "POST", credentials: "same-origin",
          headers: csrfHeaders(), body: new URLSearchParams(new FormData(form)) });
        if (resp.ok) { window.location.assign(resp.url); return; }
        show(out, await messageOf(resp));
      } finally {
        if (button) { button.disabled = false; }
      }
    });
  }

  // the trace view (资金穿透): accounts in columns by hop; a hop with more accounts than the limit shows
  // its best attributed ones and folds the rest into one node (tap it to unfold); edges and accounts
  // under the minimum attributed amount are hidden; tapping an edge shows its evidence row
  function traceChart(el) {
    if (!window.cytoscape) { return; }
    const g = JSON.parse(document.getElementById("trace-data").textContent);
    const zh = document.body.dataset.lang === "zh";
    const expanded = new Set();
    const limitInput = document.getElementById("hop-limit");
    const minInput = document.getElementById("trace-min");
    const shownLabel = document.getElementById("trace-shown");
    const evidence = document.getElementById("trace-evidence");
    const side = g.direction === "up" ? -1 : 1;
    const cy = window.cytoscape({
      container: el,
      style: [
        { selector: "node", style: { label: "data(label)", "font-size": 9, "text-valign": "center", "text-halign": "right",
          "background-color": "#5b8def", width: "data(size)", height: "data(size)", "text-wrap": "wrap" } },
        { selector: "node[seed = 1]", style: { "background-color": "#d9480f" } },
        { selector: "node[loop = 1]", style: { "border-width": 2, "border-color": "#c92a2a" } },
        { selector: "node[group = 1]", style: { shape: "round-rectangle", "background-color": "#868e96" } },
        { selector: "edge", style: { width: "data(w)", "curve-style": "bezier", "target-arrow-shape": "triangle",
          "line-color": "#adb5bd", "target-arrow-color": "#adb5bd", opacity: 0.8 } },
      ],
      layout: { name: "preset" },
    });
    function money(x) { return (Math.round(x * 100) / 100).toLocaleString(); }
    function build() {
      const limit = Math.max(1, parseInt(limitInput.value, 10) || 12);
      const min = parseFloat(minInput.value || "0") || 0;
      const where = new Map();  // account -> node id shown for it
      const nodes = [];
      const byHop = new Map();
      g.nodes.forEach((n) => {
        if (!n.is_seed && (n.attributed || 0) < min) { return; }
        if (!byHop.has(n.hop)) { byHop.set(n.hop, []); }
        byHop.get(n.hop).push(n);
      });
      let hidden = 0;
      Array.from(byHop.keys()).sort((a, b) => a - b).forEach((hop) => {
        const list = byHop.get(hop).slice().sort((a, b) => (b.attributed || 0) - (a.attributed || 0));
        const open = expanded.has(hop) || list.length <= limit;
        const shown = open ? list : list.slice(0, limit);
        const rest = open ? [] : list.slice(limit);
        const rows = shown.length + (rest.length ? 1 : 0);
        shown.forEach((n, i) => {
          const id = "a:" + n.account;
          where.set(n.account, id);
          nodes.push({ data: { id, label: n.account + "\n" + money(n.attributed || 0), seed: n.is_seed ? 1 : 0,
            loop: n.loop ? 1 : 0, group: 0, hop, size: 10 + Math.min(20, Math.log10(1 + (n.attributed || 0)) * 3) },
          position: { x: side * hop * 260, y: (i - rows / 2) * 34 } });
        });
        if (rest.length) {
          const id = "more:" + hop;
          const sum = rest.reduce((t, n) => t + (n.attributed || 0), 0);
          rest.forEach((n) => where.set(n.account, id));
          hidden += rest.length;
          nodes.push({ data: { id, label: (zh ? "另 " + rest.length + " 个账户（点击展开）\n合计 " : rest.length + " more (tap to unfold)\n") + money(sum),
            seed: 0, loop: 0, group: 1, hop, size: 26 }, position: { x: side * hop * 260, y: (rows / 2) * 34 } });
        }
      });
      const merged = new Map();
      g.edges.forEach((e) => {
        if ((e.attributed || 0) < min) { return; }
        const s = where.get(e.from_account), t = where.get(e.to_account);
        if (!s || !t || s === t) { return; }
        const key = s + ">" + t;
        const m = merged.get(key) || { source: s, target: t, attributed: 0, count: 0, rows: [] };
        m.attributed += e.attributed || 0;
        m.count += 1;
        if (m.rows.length < 20) { m.rows.push(e); }
        merged.set(key, m);
      });
      const maxAtt = Math.max(1, ...Array.from(merged.values()).map((m) => m.attributed));
      const edges = Array.from(merged.values()).map((m, i) => ({ data: { id: "e" + i, source: m.source, target: m.target,
        attributed: m.attributed, count: m.count, w: 1 + 6 * m.attributed / maxAtt, rows: m.rows } }));
      cy.elements().remove();
      cy.add(nodes);
      cy.add(edges);
      cy.layout({ name: "preset" }).run();
      cy.fit(undefined, 20);
      if (shownLabel) {
        shownLabel.textContent = zh ? "显示 " + (nodes.length) + " 个节点，折叠 " + hidden + " 个账户"
          : nodes.length + " nodes shown, " + hidden + " accounts folded";
      }
      el.dataset.folded = String(hidden);
    }
    cy.on("tap", "node[group = 1]", (ev) => { expanded.add(ev.target.data("hop")); build(); });
    cy.on("tap", "edge", (ev) => {
      const d = ev.target.data();
      show(evidence, (zh ? "转账 " + d.count + " 笔，归属金额 " : d.count + " transfers, attributed ") + money(d.attributed) + "\n" +
        JSON.stringify(d.rows.map((r) => ({ txn_id: r.txn_id, ts: r.ts, amount: r.amount, attributed: r.attributed,
          src_sha256: r.src_sha256, src_row: r.src_row })), null, 1));
    });
    document.getElementById("trace-expand").addEventListener("click", () => { g.hops.forEach((h) => expanded.add(h)); build(); });
    document.getElementById("trace-collapse").addEventListener("click", () => { expanded.clear(); build(); });
    [limitInput, minInput].forEach((c) => { c.addEventListener("change", build); });
    build();
    window.cbTrace = cy;
    el.dataset.ready = "1";
  }

  function trendChart(el) {
    if (!window.echarts) { return; }
    const data = JSON.parse(document.getElementById("trend-data").textContent);
    const zh = document.body.dataset.lang === "zh";
    const names = zh ? { cases: "立案", gangs: "打掉团伙", persons_measures: "强制措施人数", platforms: "捣毁平台" }
                     : { cases: "cases", gangs: "gangs", persons_measures: "persons", platforms: "platforms" };
    const chart = window.echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis" }, legend: {}, xAxis: { type: "category", data: data.months }, yAxis: { type: "value" },
      series: Object.keys(names).map((k) => ({ name: names[k], type: "line", data: data.series[k] })),
    });
  }

  function linkChart(el) {
    if (!window.cytoscape) { return; }
    const g = JSON.parse(document.getElementById("graph-data").textContent);
    const amounts = g.edges.filter((e) => e.amount).map((e) => parseFloat(e.amount));
    const maxAmount = Math.max(1, ...amounts);
    const cy = window.cytoscape({
      container: el,
      elements: [
        ...g.nodes.map((n) => ({ data: { id: n.id, label: n.label, kind: n.kind, root: n.root ? 1 : 0 } })),
        ...g.edges.map((e, i) => ({ data: { id: "e" + i, source: e.source, target: e.target, kind: e.kind,
          amount: e.amount ? parseFloat(e.amount) : 0, w: e.amount ? 1 + 7 * parseFloat(e.amount) / maxAmount : 1, raw: e } })),
      ],
      style: [
        { selector: "node", style: { label: "data(label)", "font-size": 9, "background-color": "#5b8def", width: 14, height: 14 } },
        { selector: "node[root = 1]", style: { "background-color": "#d9480f", width: 24, height: 24 } },
        { selector: "node[kind = 'id_number']", style: { "background-color": "#2b8a3e", shape: "round-rectangle" } },
        { selector: "edge", style: { width: "data(w)", "curve-style": "bezier", "target-arrow-shape": "triangle", "line-color": "#adb5bd",
          "target-arrow-color": "#adb5bd" } },
        { selector: "edge[kind = 'holds']", style: { "line-style": "dashed" } },
      ],
      layout: { name: "cose", animate: false },
    });
    const evidence = document.getElementById("edge-evidence");
    cy.on("tap", "edge", (ev) => { show(evidence, JSON.stringify(ev.target.data("raw"), null, 1)); });
    cy.on("tap", "node", (ev) => {
      const n = ev.target;
      if (!n.data("root") && n.data("kind") === "account") {
        const key = n.id().slice(n.id().indexOf(":") + 1);
        window.location.assign("/entities/" + encodeURIComponent(key));
      }
    });
    // the time slider: money edges whose first transfer is after the chosen moment are hidden
    const firsts = g.edges.filter((e) => e.first).map((e) => Date.parse(e.first.replace(" ", "T")));
    const tMin = Math.min(...firsts), tMax = Math.max(...firsts);
    const slider = document.getElementById("time-slider");
    const label = document.getElementById("time-label");
    function until() {
      if (!firsts.length || !slider) { return Infinity; }
      return tMin + (tMax - tMin) * parseInt(slider.value, 10) / 100;
    }
    function refilter() {
      const kinds = Array.from(document.querySelectorAll(".edge-filter")).filter((c) => c.checked).map((c) => c.value);
      const min = parseFloat(document.getElementById("min-amount").value || "0");
      const limit = until();
      if (label && firsts.length) { label.textContent = new Date(limit).toLocaleString(); }
      cy.edges().forEach((e) => {
        const raw = e.data("raw");
        const first = raw.first ? Date.parse(raw.first.replace(" ", "T")) : -Infinity;
        const visible = kinds.includes(e.data("kind")) &&
          (e.data("kind") !== "money" || (e.data("amount") >= min && first <= limit));
        e.style("display", visible ? "element" : "none");
      });
    }
    document.querySelectorAll(".edge-filter, #min-amount, #time-slider").forEach((c) => {
      c.addEventListener("change", refilter);
      c.addEventListener("input", refilter);
    });
    refilter();
    window.cbGraph = cy; // for the end-to-end test and the browser console
    el.dataset.ready = "1";
  }

  document.addEventListener("DOMContentLoaded", () => {
    const by = (id) => document.getElementById(id);
    if (by("login-form")) { onLogin(by("login-form")); }
    if (by("logout")) { onLogout(by("logout")); }
    if (by("tip-form")) { onTip(by("tip-form")); }
    if (by("follow-form")) { onFollow(by("follow-form")); }
    if (by("trend-chart")) { trendChart(by("trend-chart")); }
    if (by("graph")) { linkChart(by("graph")); }
    if (by("trace-graph")) { traceChart(by("trace-graph")); }
    document.querySelectorAll("form.cb-form").forEach(onEditForm);
  });
})();
