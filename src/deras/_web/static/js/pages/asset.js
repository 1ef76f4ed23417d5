// Asset page: definition, partition bar (drawn from ranges, whatever the count), numeric
// metadata as small inline SVG plots, materializations and check history; launch a run.
import {
  actionButton, api, assetLink, el, emptyText, live, pill, replace, runLink, showError, stateColor,
  table, throttle, toast, when,
} from "../deras.js";

const key = document.getElementById("main").dataset.key;

function plot(name, points) {
  const w = 320;
  const h = 110;
  const pad = 26;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x) => pad + ((x - x0) / (x1 - x0 || 1)) * (w - pad - 8);
  const sy = (y) => h - 18 - ((y - y0) / (y1 - y0 || 1)) * (h - 30);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("class", "plot");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${name} over time`);
  const add = (tag, attrs, text) => {
    const node = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    svg.append(node);
  };
  const sorted = [...points].sort((a, b) => a[0] - b[0]);
  add("polyline", { class: "line", points: sorted.map(([x, y]) => `${sx(x)},${sy(y)}`).join(" ") });
  for (const [x, y] of sorted) add("circle", { class: "dot", cx: sx(x), cy: sy(y), r: 2.5 });
  add("text", { x: 2, y: 12 }, String(y1));
  add("text", { x: 2, y: h - 18 }, String(y0));
  add("text", { x: pad, y: h - 4 }, new Date(x0 * 1000).toLocaleDateString());
  return el("div", {}, el("div", { class: "stat-label" }, name), svg);
}

// The partition bar: the read model folds the partitions, in order, into at most a hundred or so
// buckets with a count per state (a million partitions are the same few numbers); each bucket is
// a column, filled bottom up by its share of materialized, in progress and failed partitions.
const BAR_STATES = ["materialized", "in_progress", "failed"];

function partitionBar(detail) {
  const bar = detail.partition_status?.bar;
  const counts = detail.partitions;
  if (!bar || !counts) return null;
  const n = bar.sizes.length;
  const canvas = el("canvas", {
    class: "partition-bar", role: "img", "aria-label": `partition status: ${n} buckets of ${bar.count} partitions`,
    dataset: { buckets: String(n), firstIndex: String(bar.first_index ?? "") },
  });
  requestAnimationFrame(() => {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 600;
    const height = 22;
    canvas.width = width * ratio;
    canvas.height = height * ratio;
    const ctx = canvas.getContext("2d");
    ctx.scale(ratio, ratio);
    ctx.fillStyle = stateColor("missing");
    ctx.fillRect(0, 0, width, height);
    for (let b = 0; b < n; b++) {
      const x0 = (b / n) * width;
      const w = Math.max(((b + 1) / n) * width - x0, 1);
      let y = height;
      for (const state of BAR_STATES) {
        const share = (bar.states[state]?.[b] ?? 0) / bar.sizes[b];
        if (!share) continue;
        const h = Math.max(share * height, 1);
        ctx.fillStyle = stateColor(state);
        ctx.fillRect(x0, y - h, w, h);
        y -= h;
      }
    }
  });
  const legend = ["materialized", "failed", "in_progress", "missing"].map((s) =>
    el("span", { class: "muted" }, pill(s), ` ${counts[s] ?? 0}  `));
  return [canvas, el("div", { class: "toolbar" }, legend, el("span", { class: "muted" }, `of ${counts.total ?? "?"}`))];
}

async function load() {
  const [detail, snapshot] = await Promise.all([api(`/assets/${key.split("/").map(encodeURIComponent).join("/")}`), api("/lineage")]);
  document.getElementById("title").textContent = detail.key;
  const deps = [];
  const index = snapshot.nodes.key.indexOf(detail.key);
  const ups = [];
  const downs = [];
  for (const [u, v] of snapshot.edges) {
    if (v === index) ups.push(snapshot.nodes.key[u]);
    if (u === index) downs.push(snapshot.nodes.key[v]);
  }
  deps.push(["Group", detail.group ?? "default"], ["Description", detail.description ?? "—"],
    ["Kinds", (detail.kinds ?? []).join(", ") || "—"],
    ["Upstream", ups.length ? ups.flatMap((k) => [assetLink(k), " "]) : "—"],
    ["Downstream", downs.length ? downs.flatMap((k) => [assetLink(k), " "]) : "—"],
    ["Last materialized", detail.last_materialization ? [when(detail.last_materialization.timestamp), " in ", runLink(detail.last_materialization.run_id)] : "never"]);
  replace("definition", el("dl", { class: "meta-list" }, deps.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])));

  const bar = partitionBar(detail);
  if (bar) replace("partitions", bar);

  const series = Object.entries(detail.metadata_series ?? {}).filter(([, pts]) => pts.length);
  if (series.length) replace("plots", el("div", { class: "grid3" }, series.map(([name, pts]) => plot(name, pts))));

  replace("materializations", table(
    [
      { label: "When", cell: (m) => when(m.timestamp) },
      { label: "Run", cell: (m) => runLink(m.run_id) },
      { label: "Partition", cell: (m) => m.partition ?? "" },
      { label: "Metadata", cell: (m) => Object.entries(m.metadata ?? {}).map(([k, v]) => el("div", { class: "mono" }, `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`)) },
    ],
    detail.materializations ?? [],
    { empty: "Never materialized." },
  ));
  replace("checks", [
    table(
      [
        { label: "Check", cell: (c) => c.name },
        { label: "Latest", cell: (c) => pill(c.passed === null ? "missing" : c.passed ? "passed" : "failed") },
        { label: "When", cell: (c) => when(c.timestamp) },
      ],
      detail.checks ?? [],
      { empty: "No checks." },
    ),
    (detail.check_history ?? []).length ? el("h2", {}, "History") : null,
    (detail.check_history ?? []).length ? table(
      [
        { label: "Check", cell: (c) => c.check_name },
        { label: "Result", cell: (c) => pill(c.passed ? "passed" : "failed") },
        { label: "Severity", cell: (c) => c.severity },
        { label: "Partition", cell: (c) => c.partition ?? "" },
        { label: "When", cell: (c) => when(c.timestamp) },
        { label: "Run", cell: (c) => runLink(c.run_id) },
      ],
      detail.check_history,
    ) : null,
  ]);

  const partitionInput = detail.partitioned ? el("input", { placeholder: "partition key", "aria-label": "partition key", id: "partition" }) : null;
  replace("actions", [
    partitionInput,
    actionButton("Materialize", async () => {
      const body = { selection: detail.key };
      if (partitionInput) {
        if (!partitionInput.value) throw new Error("give the partition key to materialize");
        body.partition = partitionInput.value;
      }
      const out = await api("/runs", { method: "POST", body });
      toast("run queued");
      location.href = `/runs/${out.run_id}`;
    }, { kind: "primary" }),
    el("a", { class: "button", href: `/runs?target=${encodeURIComponent(`assets:${detail.key}`)}` }, "Runs"),
  ]);
}

load().catch((err) => showError("definition", err));
live({ onChange: throttle(() => load().catch(() => {}), 2000) });
emptyText("plots", "No numeric metadata yet");
