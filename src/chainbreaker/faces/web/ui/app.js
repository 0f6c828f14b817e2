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
  });
})();
