// Asset lineage on a canvas: the server sends the layout once per code version (columns of
// keys, groups and coordinates) and statuses apart (a small payload refreshed live). Only what
// is inside the viewport is drawn; zoomed out, nodes are plain boxes and labels are left out,
// and groups of more than FOLD_OVER assets are one node each (lineage_groups.js).
import { api, assetLink, count, el, live, PALETTE, pill, qs, replace, showError, stateColor, table, throttle, when } from "../deras.js";
import { GroupFolding } from "../lineage_groups.js";

const canvas = document.getElementById("graph");
const info = document.getElementById("graph-info");
const search = document.getElementById("search");
const ctx = canvas.getContext("2d");
let layout = null;
let statuses = {};
let view = { x: 0, y: 0, k: 1 }; // screen = (world - view.xy) * k
let hover = -1;
let matches = [];
let highlighted = new Set();
let edgesOf = null; // node index -> edge indices (for hover highlighting)
let folding = null; // the large groups, folded while zoomed out
const FAILED_FILL = "#fff0f0";

function resize() {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = canvas.clientWidth * ratio;
  canvas.height = canvas.clientHeight * ratio;
  draw();
}

function fit() {
  if (!layout) return;
  const pad = 40;
  const w = canvas.clientWidth - pad * 2;
  const h = canvas.clientHeight - pad * 2;
  const k = Math.min(w / Math.max(layout.width, 1), h / Math.max(layout.height, 1), 1.2);
  view = { k, x: -pad / k - (w / k - layout.width) / 2, y: -pad / k - (h / k - layout.height) / 2 };
  draw();
}

function centerOn(i, k = Math.max(view.k, 0.9)) {
  const n = layout.nodes;
  folding.unfold(n.group[i]); // a search match inside a folded group opens it
  view.k = k;
  view.x = n.x[i] + layout.node_width / 2 - canvas.clientWidth / 2 / k;
  view.y = n.y[i] + layout.node_height / 2 - canvas.clientHeight / 2 / k;
  draw();
}

let frame = 0;
function draw() {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    paint();
  });
}

function paint() {
  const ratio = window.devicePixelRatio || 1;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!layout) return;
  const { k } = view;
  ctx.setTransform(k * ratio, 0, 0, k * ratio, -view.x * k * ratio, -view.y * k * ratio);
  const nw = layout.node_width;
  const nh = layout.node_height;
  const x0 = view.x;
  const y0 = view.y;
  const x1 = x0 + canvas.clientWidth / k;
  const y1 = y0 + canvas.clientHeight / k;
  const { x, y, group, key } = layout.nodes;
  const scene = folding.scene(k);
  const { hidden } = scene;
  const n = key.length;
  const box = (i) => folding.boxes[i - n];
  // where an edge leaves node a and enters node b (a group's node is wider and taller)
  const outX = (a) => (a < n ? x[a] + nw : box(a).x + box(a).w);
  const outY = (a) => (a < n ? y[a] + nh / 2 : box(a).y + box(a).h / 2);
  const inX = (b) => (b < n ? x[b] : box(b).x);
  const inY = (b) => (b < n ? y[b] + nh / 2 : box(b).y + box(b).h / 2);
  const inView = (i) => x[i] + nw >= x0 && x[i] <= x1 && y[i] + nh >= y0 && y[i] <= y1;

  // edges: one path for all, then the hovered node's edges on top
  ctx.lineWidth = 1 / Math.max(k, 0.25);
  ctx.strokeStyle = k < 0.2 ? "rgba(120,130,150,0.25)" : "rgba(120,130,150,0.6)";
  ctx.beginPath();
  const bends = layout.bendsByEdge;
  for (const [u, v, e] of scene.edges) {
    const ax = outX(u);
    const bx = inX(v);
    if (Math.max(ax, bx) < x0 || Math.min(ax, bx) > x1) continue;
    const ay = outY(u);
    const by = inY(v);
    const pts = e >= 0 ? bends.get(e) : null;
    if (!pts && (Math.max(ay, by) < y0 || Math.min(ay, by) > y1)) continue;
    ctx.moveTo(ax, ay);
    if (pts) {
      for (let p = 0; p < pts.length; p += 2) ctx.lineTo(pts[p], pts[p + 1]);
      ctx.lineTo(bx, by);
    } else {
      const mid = (ax + bx) / 2;
      ctx.bezierCurveTo(mid, ay, mid, by, bx, by);
    }
  }
  ctx.stroke();
  if (hover >= 0 && hover < n && !hidden[hover] && edgesOf) {
    ctx.strokeStyle = "#3b5bdb";
    ctx.lineWidth = 2 / Math.max(k, 0.25);
    ctx.beginPath();
    for (const e of edgesOf.get(hover) ?? []) {
      const [u, v] = layout.edges[e];
      if (hidden[u] || hidden[v]) continue;
      ctx.moveTo(x[u] + nw, y[u] + nh / 2);
      const pts = bends.get(e);
      if (pts) for (let p = 0; p < pts.length; p += 2) ctx.lineTo(pts[p], pts[p + 1]);
      ctx.lineTo(x[v], y[v] + nh / 2);
    }
    ctx.stroke();
  }

  // nodes
  const detailed = k >= 0.45;
  ctx.font = "13px system-ui, sans-serif";
  ctx.textBaseline = "middle";
  for (let i = 0; i < n; i++) {
    if (hidden[i] || !inView(i)) continue;
    const status = statuses[key[i]];
    const state = status ? status[0] : "missing";
    const colour = PALETTE[group[i] % PALETTE.length];
    if (!detailed) {
      ctx.fillStyle = colour;
      ctx.fillRect(x[i], y[i], nw, nh);
      ctx.fillStyle = stateColor(state);
      ctx.fillRect(x[i], y[i], 14, nh);
      continue;
    }
    ctx.fillStyle = state === "failed" ? FAILED_FILL : "#ffffff";
    ctx.strokeStyle = highlighted.has(i) ? "#e8590c" : i === hover ? "#3b5bdb" : state === "failed" ? stateColor("failed") : colour;
    ctx.lineWidth = highlighted.has(i) || i === hover || state === "failed" ? 3 : 1.5;
    ctx.beginPath();
    ctx.roundRect(x[i], y[i], nw, nh, 6);
    ctx.fill();
    ctx.stroke();
    ctx.fillStyle = colour;
    ctx.fillRect(x[i] + 1, y[i] + 1, 5, nh - 2);
    ctx.fillStyle = stateColor(state);
    ctx.beginPath();
    ctx.arc(x[i] + nw - 12, y[i] + nh / 2, 5, 0, Math.PI * 2);
    ctx.fill();
    if (status && status[2] > 0) {
      ctx.fillStyle = stateColor("failure");
      ctx.fillText("!", x[i] + nw - 26, y[i] + nh / 2);
    }
    ctx.fillStyle = "#1d2330";
    let label = key[i];
    if (label.length > 22) label = `${label.slice(0, 21)}…`;
    ctx.fillText(label, x[i] + 12, y[i] + nh / 2);
  }

  // folded groups: a bigger node in the group's colour, its state in a band, its name and count
  const drawn = [];
  for (const g of scene.groups) {
    const b = folding.boxes[g];
    const [state, failing] = folding.state(g, statuses);
    drawn.push({ group: layout.groups[g], count: folding.members[g].length, state,
      x: (b.x + b.w / 2 - view.x) * k, y: (b.y + b.h / 2 - view.y) * k });
    if (b.x + b.w < x0 || b.x > x1 || b.y + b.h < y0 || b.y > y1) continue;
    const matched = folding.members[g].some((i) => highlighted.has(i));
    ctx.fillStyle = PALETTE[g % PALETTE.length];
    ctx.strokeStyle = matched ? "#e8590c" : n + g === hover ? "#3b5bdb" : stateColor(state);
    ctx.lineWidth = (matched || n + g === hover ? 4 : 3) / Math.max(k, 0.25);
    ctx.beginPath();
    ctx.roundRect(b.x, b.y, b.w, b.h, 10);
    ctx.fill();
    ctx.stroke();
    ctx.fillStyle = stateColor(state);
    ctx.fillRect(b.x + 2, b.y + 2, 18, b.h - 4);
    if (k >= 0.1) {
      // readable when zoomed out (12 px on screen at least), within the node's box
      ctx.font = `bold ${Math.min(Math.max(14, 12 / k), b.h * 0.6)}px system-ui, sans-serif`;
      let label = `${layout.groups[g]} (${folding.members[g].length})${failing ? " !" : ""}`;
      while (label.length > 4 && ctx.measureText(label).width > b.w - 36) label = `${label.slice(0, -2)}…`;
      ctx.fillStyle = "#ffffff";
      ctx.fillText(label, b.x + 28, b.y + b.h / 2);
    }
  }
  // for tests and assistive tools: what is folded, where (CSS pixels in the canvas), how it is
  canvas.dataset.folded = JSON.stringify(drawn);
  canvas.dataset.zoom = String(k);
}

// The node under a point: an asset's index, or n + g for folded group g's node; -1 for none.
function nodeAt(sx, sy) {
  if (!layout) return -1;
  const wx = view.x + sx / view.k;
  const wy = view.y + sy / view.k;
  const { x, y } = layout.nodes;
  const scene = folding.scene(view.k);
  for (const g of scene.groups) {
    const b = folding.boxes[g];
    if (wx >= b.x && wx <= b.x + b.w && wy >= b.y && wy <= b.y + b.h) return x.length + g;
  }
  for (let i = 0; i < x.length; i++) {
    if (scene.hidden[i]) continue;
    if (wx >= x[i] && wx <= x[i] + layout.node_width && wy >= y[i] && wy <= y[i] + layout.node_height) return i;
  }
  return -1;
}

// Open a folded group: draw its assets and fit the view to them.
function unfold(g) {
  folding.unfold(g);
  const { x, y } = layout.nodes;
  const m = folding.members[g];
  const left = Math.min(...m.map((i) => x[i]));
  const top = Math.min(...m.map((i) => y[i]));
  const width = Math.max(...m.map((i) => x[i])) + layout.node_width - left;
  const height = Math.max(...m.map((i) => y[i])) + layout.node_height - top;
  const k = Math.min(canvas.clientWidth / (width + 80), canvas.clientHeight / (height + 80), 1.2);
  view = { k, x: left + width / 2 - canvas.clientWidth / 2 / k, y: top + height / 2 - canvas.clientHeight / 2 / k };
  info.textContent = summary();
  draw();
}

// pan, zoom, hover, click
let drag = null;
canvas.addEventListener("pointerdown", (e) => {
  drag = { sx: e.clientX, sy: e.clientY, vx: view.x, vy: view.y, moved: false };
  canvas.setPointerCapture(e.pointerId);
});
canvas.addEventListener("pointermove", (e) => {
  const rect = canvas.getBoundingClientRect();
  if (drag) {
    const dx = e.clientX - drag.sx;
    const dy = e.clientY - drag.sy;
    if (Math.abs(dx) + Math.abs(dy) > 3) {
      drag.moved = true;
      canvas.classList.add("dragging");
    }
    view.x = drag.vx - dx / view.k;
    view.y = drag.vy - dy / view.k;
    draw();
    return;
  }
  const i = nodeAt(e.clientX - rect.left, e.clientY - rect.top);
  if (i !== hover) {
    hover = i;
    canvas.style.cursor = i >= 0 ? "pointer" : "";
    canvas.title = i >= 0 ? describe(i) : "";
    draw();
  }
});
canvas.addEventListener("pointerup", (e) => {
  const rect = canvas.getBoundingClientRect();
  const wasDrag = drag?.moved;
  drag = null;
  canvas.classList.remove("dragging");
  if (wasDrag) return;
  const i = nodeAt(e.clientX - rect.left, e.clientY - rect.top);
  if (i >= layout.nodes.key.length) unfold(i - layout.nodes.key.length);
  else if (i >= 0) location.href = `/assets/${layout.nodes.key[i].split("/").map(encodeURIComponent).join("/")}`;
});
canvas.addEventListener("wheel", (e) => {
  e.preventDefault();
  const rect = canvas.getBoundingClientRect();
  const sx = e.clientX - rect.left;
  const sy = e.clientY - rect.top;
  const wx = view.x + sx / view.k;
  const wy = view.y + sy / view.k;
  view.k = Math.min(4, Math.max(0.01, view.k * Math.exp(-e.deltaY * 0.0015)));
  view.x = wx - sx / view.k;
  view.y = wy - sy / view.k;
  draw();
}, { passive: false });

function describe(i) {
  const n = layout.nodes.key.length;
  if (i >= n) {
    const [state, failing] = folding.state(i - n, statuses);
    return `${layout.groups[i - n]}: ${folding.members[i - n].length} assets, ${state.replace("_", " ")}` +
      `${failing ? `, ${failing} failing checks` : ""}\nclick to open the group`;
  }
  const status = statuses[layout.nodes.key[i]];
  const group = layout.groups[layout.nodes.group[i]];
  return `${layout.nodes.key[i]} (${group})${status?.[1] ? `\nlast materialized ${when(status[1])}` : "\nnever materialized"}`;
}

search.addEventListener("input", () => {
  const text = search.value.trim().toLowerCase();
  highlighted = new Set();
  matches = [];
  if (text && layout) {
    layout.nodes.key.forEach((k, i) => {
      if (k.toLowerCase().includes(text)) matches.push(i);
    });
    highlighted = new Set(matches.slice(0, 5000));
  }
  info.textContent = text ? `${count(matches.length, "match", "matches")} (Enter: go to the first)` : summary();
  draw();
});
search.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && matches.length) {
    e.preventDefault();
    const next = matches.shift();
    matches.push(next);
    centerOn(next);
  }
});
document.addEventListener("keydown", (e) => {
  if (e.key === "/" && document.activeElement !== search) {
    e.preventDefault();
    search.focus();
  }
});
document.getElementById("fit").addEventListener("click", fit);
window.addEventListener("resize", throttle(resize, 100));

function summary() {
  const folded = folding.folded.size;
  const note = folded ? `; ${count(folded, "large group")} folded (zoom in or click to open)` : "";
  return `${count(layout.nodes.key.length, "asset")}, ${count(layout.edges.length, "dependency", "dependencies")}, ${count(layout.groups.length, "group")}${note}`;
}

function legend() {
  const shown = layout.groups.length > 16 ? 12 : 16;
  replace("legend", layout.groups.slice(0, shown).map((g, i) =>
    el("span", {}, el("span", { class: "swatch", dataset: { colour: PALETTE[i % PALETTE.length] } }), g)),
  layout.groups.length > shown ? el("span", { class: "muted" }, `+${layout.groups.length - shown} groups`) : null);
  for (const swatch of document.querySelectorAll(".swatch")) swatch.style.background = swatch.dataset.colour;
}

// The statuses come as columns (keys, one state letter each, times, failing checks): kept by
// key as [state, last materialized, failing checks] for drawing.
function byKey(columns) {
  const out = {};
  columns.keys.forEach((k, i) => {
    out[k] = [columns.state_codes[columns.states[i]], columns.last_materialized[i], columns.failing_checks[i]];
  });
  return out;
}

async function loadStatuses() {
  statuses = byKey(await api("/lineage/statuses"));
  draw();
}

async function loadGraph() {
  // The layout first (cached by the browser and the server per code version), drawn at once;
  // the statuses, a separate payload, colour it when they arrive.
  const statusesLoaded = api("/lineage/statuses");
  layout = await api("/lineage");
  layout.bendsByEdge = new Map(layout.bends.map(([e, pts]) => [e, pts]));
  folding = new GroupFolding(layout);
  edgesOf = new Map();
  layout.edges.forEach(([u, v], e) => {
    for (const n of [u, v]) {
      if (!edgesOf.has(n)) edgesOf.set(n, []);
      edgesOf.get(n).push(e);
    }
  });
  legend();
  info.textContent = summary();
  resize();
  fit();
  requestAnimationFrame(() => {
    performance.mark("lineage-ready");
    document.body.dataset.graphReady = "true";
  });
  statuses = byKey(await statusesLoaded);
  draw();
  document.body.dataset.statusesReady = "true";
}

// The list: pages of assets by key from the server, filtered there ("More" asks for the next).
async function loadList() {
  document.querySelector(".graph-wrap").hidden = true;
  const main = document.getElementById("main");
  main.classList.remove("wide");
  const box = document.getElementById("asset-list");
  box.hidden = false;
  const input = el("input", { type: "search", placeholder: "filter assets", "aria-label": "filter assets" });
  const body = el("div", {});
  const more = el("button", { type: "button", hidden: true }, "More");
  replace(box, el("h1", {}, "Assets ", el("a", { href: "/assets", class: "sub" }, "graph")), el("div", { class: "toolbar" }, input), body, more);
  let pages = [];
  const render = () => {
    replace(body, table(
      [
        { label: "Asset", cell: (a) => assetLink(a.key) },
        { label: "Group", cell: (a) => a.group ?? "" },
        { label: "Kinds", cell: (a) => (a.kinds ?? []).join(", ") },
        { label: "Partitions", cell: (a) => (a.partitions ? `${a.partitions.materialized} / ${a.partitions.total ?? "?"}` : "") },
        { label: "Checks", cell: (a) => (a.checks ?? []).map((c) => pill(c.passed === null ? "missing" : c.passed ? "passed" : "failed")) },
        { label: "Last materialized", cell: (a) => when(a.last_materialization?.timestamp) },
        { label: "State", cell: (a) => pill(a.failed_last ? "failed" : a.last_materialization ? "materialized" : "missing") },
      ],
      pages.flatMap((p) => p.items),
      { empty: "No assets match." },
    ));
    more.hidden = !pages[pages.length - 1]?.next_cursor;
  };
  let asked = 0;
  const load = async (cursor) => {
    const mine = ++asked;
    const page = await api(`/assets${qs({ limit: 200, search: input.value.trim(), cursor })}`);
    if (mine !== asked) return; // a newer filter was typed meanwhile
    pages = cursor ? [...pages, page] : [page];
    render();
    document.body.dataset.listReady = "true";
  };
  more.addEventListener("click", () => load(pages[pages.length - 1].next_cursor).catch((err) => showError("asset-list", err)));
  input.addEventListener("input", throttle(() => load().catch((err) => showError("asset-list", err)), 250));
  await load();
}

if (new URLSearchParams(location.search).get("view") === "list") {
  loadList().catch((err) => showError("asset-list", err));
} else {
  loadGraph().catch((err) => {
    info.textContent = err.message;
    info.classList.add("error-box");
  });
  live({ onChange: throttle(() => loadStatuses().catch(() => {}), 2000) });
}
