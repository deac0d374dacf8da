// robomem memory viewer: a force-directed drawing of one site's knowledge graph (laid out here, no library),
// its superseded facts, and the long-term items with a search box. Values are shown with textContent only.
"use strict";
// unpack() and el() come from common.js, inlined before this script.
unpack("memory-data").then(function (data) {
  const SVG = "http://www.w3.org/2000/svg";
  const PALETTE = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#8c564b", "#7f7f7f",
    "#bcbd22", "#17becf"];

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    return node;
  }

  function colours(values) {
    const map = new Map();
    Array.from(new Set(values)).sort().forEach((v, i) => map.set(v, PALETTE[i % PALETTE.length]));
    return map;
  }

  function stamp(s) {
    return s && typeof s === "object" ? "ep " + s.episode + " step " + s.step : "?";
  }

  // ---- graph --------------------------------------------------------------------------------------------
  const graphEl = document.getElementById("graph");
  const details = document.getElementById("details");
  const hiddenRelations = new Set();
  let current = null;

  function layout(nodes, links) {
    // Fruchterman-Reingold style: pairwise repulsion, springs along edges, a pull to the centre, cooling.
    const n = nodes.length;
    const k = 45;
    nodes.forEach(function (node, i) {
      const angle = (2 * Math.PI * i) / Math.max(n, 1);
      const radius = 40 + 12 * Math.sqrt(n) * (1 + (i % 3) / 3);
      node.x = radius * Math.cos(angle);
      node.y = radius * Math.sin(angle);
    });
    const iterations = n > 400 ? 120 : 300;
    let temperature = 12 + 4 * Math.sqrt(n);
    for (let it = 0; it < iterations; it++) {
      const dx = new Float64Array(n);
      const dy = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          let x = nodes[i].x - nodes[j].x;
          let y = nodes[i].y - nodes[j].y;
          let d2 = x * x + y * y;
          if (d2 < 0.01) { x = 0.1 * (i - j); y = 0.1; d2 = x * x + y * y; }
          const f = (k * k) / d2;
          dx[i] += x * f; dy[i] += y * f; dx[j] -= x * f; dy[j] -= y * f;
        }
      }
      for (const link of links) {
        const a = link.source, b = link.target;
        const x = nodes[a].x - nodes[b].x, y = nodes[a].y - nodes[b].y;
        const d = Math.sqrt(x * x + y * y) || 0.01;
        const f = d / k;
        dx[a] -= x * f; dy[a] -= y * f; dx[b] += x * f; dy[b] += y * f;
      }
      for (let i = 0; i < n; i++) {
        dx[i] -= 0.4 * nodes[i].x; dy[i] -= 0.4 * nodes[i].y;
        const len = Math.sqrt(dx[i] * dx[i] + dy[i] * dy[i]) || 1;
        const step = Math.min(len, temperature);
        nodes[i].x += (dx[i] / len) * step;
        nodes[i].y += (dy[i] / len) * step;
      }
      temperature = Math.max(0.5, temperature * 0.985);
    }
  }

  function fit(nodes) {
    if (!nodes.length) { graphEl.setAttribute("viewBox", "-100 -100 200 200"); return; }
    const xs = nodes.map((n) => n.x), ys = nodes.map((n) => n.y);
    const pad = 60;
    const x0 = Math.min(...xs) - pad, y0 = Math.min(...ys) - pad;
    const w = Math.max(...xs) - x0 + pad, h = Math.max(...ys) - y0 + pad;
    graphEl.setAttribute("viewBox", [x0, y0, w, h].map((v) => v.toFixed(1)).join(" "));
  }

  function drawSite(index) {
    const site = data.sites[index];
    const nodes = site.nodes.map((n) => Object.assign({}, n));
    const byName = new Map(nodes.map((n, i) => [n.name, i]));
    const edges = site.edges.filter((e) => byName.has(e.subject) && byName.has(e.object));
    const pairs = new Map();
    for (const e of edges) {
      const a = byName.get(e.subject), b = byName.get(e.object);
      pairs.set(Math.min(a, b) + ":" + Math.max(a, b), { source: a, target: b });
    }
    layout(nodes, Array.from(pairs.values()));
    const latest = Math.max(0, ...nodes.map((n) => n.last_seen ? n.last_seen.episode : 0),
      ...edges.map((e) => e.last_seen ? e.last_seen.episode : 0));
    const kindColour = colours(nodes.map((n) => n.kind));
    const relationColour = colours(edges.map((e) => e.relation));
    const superseded = (site.history || []).filter(
      (h) => h.kind === "edge" && byName.has(h.subject) && byName.has(h.object));
    current = { site, nodes, byName, edges, latest, superseded, kindColour, relationColour };

    graphEl.replaceChildren();
    const historyLayer = svg("g", { class: "history-layer" });
    const edgeLayer = svg("g", { class: "edge-layer" });
    const nodeLayer = svg("g", { class: "node-layer" });
    graphEl.append(historyLayer, edgeLayer, nodeLayer);
    current.lines = [];
    edges.forEach(function (e) {
      const a = nodes[byName.get(e.subject)], b = nodes[byName.get(e.object)];
      const g = svg("g", { class: "edge", "data-relation": e.relation });
      const line = svg("line", {
        x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: relationColour.get(e.relation),
        "stroke-opacity": (0.25 + 0.75 * Math.max(0, Math.min(1, Number(e.confidence)))).toFixed(2),
      });
      const title = svg("title");
      title.textContent = e.subject + " " + e.relation + " " + e.object + " (conf " +
        Number(e.confidence).toFixed(2) + ")";
      line.append(title);
      g.append(line);
      g.addEventListener("click", () => showEdge(e));
      edgeLayer.append(g);
      current.lines.push({ line, a, b });
    });
    superseded.forEach(function (h) {
      const a = nodes[byName.get(h.subject)], b = nodes[byName.get(h.object)];
      const line = svg("line", { class: "superseded", x1: a.x, y1: a.y, x2: b.x, y2: b.y,
        stroke: "#999", "stroke-dasharray": "4 3" });
      const title = svg("title");
      title.textContent = "superseded: " + h.subject + " " + h.relation + " " + h.object + " (" + h.reason + ")";
      line.append(title);
      historyLayer.append(line);
      current.lines.push({ line, a, b });
    });
    nodes.forEach(function (node) {
      const g = svg("g", { class: "node", "data-name": node.name, "data-kind": node.kind,
        transform: "translate(" + node.x.toFixed(1) + "," + node.y.toFixed(1) + ")" });
      const circle = svg("circle", { r: node.kind === "place" ? 9 : 6, fill: kindColour.get(node.kind) });
      const label = svg("text", { x: 9, y: 3 });
      label.textContent = node.name;
      g.append(circle, label);
      node.el = g;
      g.addEventListener("pointerdown", () => startDrag(node));
      g.addEventListener("click", () => showNode(node));
      nodeLayer.append(g);
    });
    fit(nodes);
    applyVisibility();
    drawLegend();
  }

  function applyVisibility() {
    if (!current) return;
    graphEl.querySelectorAll("g.edge").forEach(function (g) {
      g.classList.toggle("hidden", hiddenRelations.has(g.getAttribute("data-relation")));
    });
    const showHistory = document.getElementById("show-history").checked;
    graphEl.querySelector("g.history-layer").classList.toggle("hidden", !showHistory);
  }

  function drawLegend() {
    const legend = document.getElementById("legend");
    legend.replaceChildren();
    for (const [kind, colour] of current.kindColour) {
      const dot = el("i", { style: "background:" + colour });
      legend.append(el("span", {}, dot, kind + " (" + current.nodes.filter((n) => n.kind === kind).length + ")"));
    }
    for (const [relation, colour] of current.relationColour) {
      const line = el("i", { class: "line", style: "background:" + colour });
      const count = current.edges.filter((e) => e.relation === relation).length;
      const box = el("input", { type: "checkbox", "data-relation": relation });
      box.checked = !hiddenRelations.has(relation);
      box.addEventListener("change", function () {
        if (box.checked) hiddenRelations.delete(relation); else hiddenRelations.add(relation);
        applyVisibility();
      });
      legend.append(el("span", {}, el("label", {}, box, line, relation + " (" + count + ")")));
    }
  }

  // Dragging moves a node and the lines that end at it (the layout is not run again).
  let drag = null;
  function startDrag(node) {
    drag = { node, moved: false };
  }
  graphEl.addEventListener("pointermove", function (event) {
    if (!drag) return;
    const matrix = graphEl.getScreenCTM();
    if (!matrix) return;
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    drag.node.x = point.x; drag.node.y = point.y; drag.moved = true;
    drag.node.el.setAttribute("transform", "translate(" + point.x.toFixed(1) + "," + point.y.toFixed(1) + ")");
    for (const item of current.lines) {
      if (item.a === drag.node) { item.line.setAttribute("x1", point.x); item.line.setAttribute("y1", point.y); }
      if (item.b === drag.node) { item.line.setAttribute("x2", point.x); item.line.setAttribute("y2", point.y); }
    }
  });
  window.addEventListener("pointerup", function () { drag = null; });
  graphEl.addEventListener("wheel", function (event) {
    event.preventDefault();
    const box = graphEl.viewBox.baseVal;
    const scale = event.deltaY > 0 ? 1.15 : 1 / 1.15;
    const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
    const w = box.width * scale, h = box.height * scale;
    graphEl.setAttribute("viewBox", [cx - w / 2, cy - h / 2, w, h].map((v) => v.toFixed(1)).join(" "));
  }, { passive: false });

  function age(s) {
    if (!s || typeof s !== "object") return "";
    const ago = current.latest - s.episode;
    return stamp(s) + (ago > 0 ? " (" + ago + " episode" + (ago > 1 ? "s" : "") + " ago)" : " (latest episode)");
  }

  function dl(pairs) {
    const list = el("dl");
    for (const [name, value] of pairs) {
      if (value === null || value === undefined || value === "") continue;
      list.append(el("dt", {}, name), el("dd", {}, value));
    }
    return list;
  }

  function historyList(rows) {
    if (!rows.length) return el("p", { class: "note" }, "No superseded facts.");
    const list = el("ul", { class: "history" });
    for (const h of rows) {
      const what = h.kind === "edge" ? h.subject + " " + h.relation + " " + h.object
        : h.kind === "state" ? h.subject + " " + h.relation + " was " + h.object : h.subject + " (node)";
      list.append(el("li", {}, what + " — " + (h.reason || "") + ", " + stamp(h.at)));
    }
    return list;
  }

  function showNode(node) {
    graphEl.querySelectorAll("g.node.selected").forEach((g) => g.classList.remove("selected"));
    node.el.classList.add("selected");
    const states = Object.entries(node.states || {}).map(([k, v]) => k + "=" + v.value).join(", ");
    const attributes = Object.entries(node.attributes || {}).map(([k, v]) => k + "=" + v).join(", ");
    const touching = current.edges.filter((e) => e.subject === node.name || e.object === node.name);
    const facts = el("ul");
    for (const e of touching) {
      facts.append(el("li", {}, e.subject + " " + e.relation + " " + e.object + " (conf " +
        Number(e.confidence).toFixed(2) + ", " + e.provenance + ")"));
    }
    const history = (current.site.history || []).filter((h) => h.subject === node.name || h.object === node.name);
    details.replaceChildren(
      el("h3", {}, node.name),
      dl([["kind", node.kind], ["type", node.type], ["first seen", age(node.first_seen)],
        ["last seen", age(node.last_seen)], ["states", states], ["attributes", attributes]]),
      el("h4", {}, "current facts (" + touching.length + ")"), facts,
      el("h4", {}, "history (" + history.length + ")"), historyList(history)
    );
  }

  function showEdge(e) {
    const history = (current.site.history || []).filter(
      (h) => h.kind === "edge" && h.subject === e.subject && h.relation === e.relation);
    details.replaceChildren(
      el("h3", {}, e.subject + " " + e.relation + " " + e.object),
      dl([["confidence", Number(e.confidence).toFixed(3)], ["provenance", e.provenance],
        ["first seen", age(e.first_seen)], ["last seen", age(e.last_seen)],
        ["weakened", e.weakened_at ? stamp(e.weakened_at) : ""]]),
      el("h4", {}, "earlier " + e.relation + " facts of " + e.subject + " (" + history.length + ")"),
      historyList(history)
    );
  }

  if (data.sites.length) {
    const siteSelect = document.getElementById("site-select");
    siteSelect.addEventListener("change", () => drawSite(Number(siteSelect.value)));
    document.getElementById("show-history").addEventListener("change", applyVisibility);
    document.getElementById("node-search").addEventListener("input", function (event) {
      const needle = event.target.value.trim().toLowerCase();
      graphEl.querySelectorAll("g.node").forEach(function (g) {
        const hit = !needle || g.getAttribute("data-name").toLowerCase().includes(needle);
        g.classList.toggle("dim", !hit);
      });
    });
    drawSite(0);
  }

  // ---- long-term items ----------------------------------------------------------------------------------
  const storeSelect = document.getElementById("store-select");
  const itemSearch = document.getElementById("item-search");
  const itemBody = document.querySelector("#items tbody");
  function listItems() {
    const items = data.stores[storeSelect.value] || [];
    const needle = itemSearch.value.trim().toLowerCase();
    itemBody.replaceChildren();
    let shown = 0;
    for (const item of items) {
      const meta = item.metadata || {};
      const metaText = JSON.stringify(meta);
      if (needle && !(item.text + " " + metaText).toLowerCase().includes(needle)) continue;
      shown += 1;
      itemBody.append(el("tr", { class: "item" },
        el("td", { class: "text" }, item.text),
        el("td", {}, meta.count === undefined ? 1 : meta.count),
        el("td", {}, meta.site === undefined ? "" : meta.site),
        el("td", {}, el("details", {}, el("summary", {}, "metadata"), el("pre", {}, JSON.stringify(meta, null, 1))))));
    }
    document.getElementById("item-count").textContent = shown + " of " + items.length + " shown";
  }
  if (storeSelect) {
    storeSelect.addEventListener("change", listItems);
    itemSearch.addEventListener("input", listItems);
    listItems();
  }
  document.body.dataset.ready = "1";
});
