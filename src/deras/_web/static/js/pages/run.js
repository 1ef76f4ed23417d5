// Run page: header and actions, failures with tracebacks and the debug command, a Gantt of
// step attempts (canvas), and the log/events tabs fed live by the run's event stream.
import {
  actionButton, api, copyBox, duration, el, emptyText, live, pill, replace, runLink, showError,
  stateColor, table, throttle, toast, when,
} from "../deras.js";

const runId = document.getElementById("main").dataset.runId;
const events = [];
const MAX_EVENTS = 20000; // kept in the page: a huge run's oldest events leave (the API has them all)
const MAX_LOG_LINES = 5000;
const MAX_GANTT_ROWS = 400;
let detail = null;
let nodeFilter = "";

// -- header, actions, metadata, failures ------------------------------------------------------
function renderDetail() {
  const r = detail;
  document.getElementById("run-title").textContent = `Run ${r.run_id.slice(0, 8)}`;
  replace("run-status", pill(r.status));
  document.getElementById("run-target").textContent = r.dag_id ? `DAG ${r.dag_id}` : r.target;
  // The server sends the first steps_limit steps and failed steps; step_count counts them all.
  const failed = r.failed_steps ?? (r.steps ?? []).filter((s) => ["failed", "failure", "upstream_failed"].includes(s.status));
  const hiddenFailed = (r.step_statuses?.failed ?? 0) + (r.step_statuses?.upstream_failed ?? 0) - failed.length;
  const actions = [];
  if (["queued", "starting", "started"].includes(r.status)) {
    actions.push(actionButton("Cancel", async () => {
      const out = await api(`/runs/${runId}/cancel`, { method: "POST" });
      toast(`run ${out.status}`);
      refresh();
    }, { kind: "danger" }));
  }
  if (["failure", "canceled"].includes(r.status)) {
    actions.push(actionButton("Re-execute from failure", async () => {
      const out = await api(`/runs/${runId}/reexecute`, { method: "POST", body: { from_failure: true } });
      location.href = `/runs/${out.run_id}`;
    }, { kind: "primary" }));
  }
  if (r.status && !["queued", "starting", "started", "canceling"].includes(r.status)) {
    actions.push(actionButton("Re-execute all", async () => {
      const out = await api(`/runs/${runId}/reexecute`, { method: "POST", body: { from_failure: false } });
      location.href = `/runs/${out.run_id}`;
    }));
  }
  replace("run-actions", actions);

  const meta = [
    ["Run id", el("span", { class: "mono" }, r.run_id)],
    ["Target", r.target],
    r.partition_key ? ["Partition", r.partition_key] : null,
    r.partition_range ? ["Partitions", r.partition_range.join(" … ")] : null,
    r.logical_date ? ["Logical date", r.logical_date] : null,
    ["Created", when(r.create_time)],
    ["Started", when(r.start_time)],
    ["Ended", when(r.end_time)],
    ["Duration", duration(r.duration)],
    r.parent_run_id ? ["Parent run", runLink(r.parent_run_id)] : null,
    r.root_run_id && r.root_run_id !== r.parent_run_id ? ["Root run", runLink(r.root_run_id)] : null,
    r.backfill_id ? ["Backfill", el("a", { href: `/backfills/${encodeURIComponent(r.backfill_id)}` }, r.backfill_id)] : null,
    r.owner_gone ? ["Process", el("span", { class: "pill failure" }, r.owner_gone)] : null,
    Object.keys(r.tags ?? {}).length ? ["Tags", Object.entries(r.tags).map(([k, v]) => el("div", { class: "mono" }, `${k}=${v}`))] : null,
  ].filter(Boolean);
  replace("run-meta", meta.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));

  if (!failed.length) emptyText("failures", "None");
  else {
    replace("failures", [...failed.map((step) => {
      const attempt = step.attempts?.[step.attempts.length - 1] ?? {};
      return el("div", { class: "failure" },
        el("h2", {}, step.node, " ", pill(step.status)),
        attempt.error ? el("div", { class: "error-box" }, attempt.error) : null,
        attempt.traceback ? el("pre", { class: "traceback" }, attempt.traceback) : null,
        step.status !== "upstream_failed" ? [el("p", { class: "muted" }, "Debug it locally, with its inputs loaded:"),
          copyBox(`deras runs debug ${r.run_id} ${step.node}`)] : null);
    }), hiddenFailed > 0 ? el("p", { class: "muted" }, `and ${hiddenFailed} more failed steps`) : null]);
  }
  const select = document.getElementById("node-filter");
  const nodes = (r.steps ?? []).map((s) => s.node);
  if (select.options.length - 1 !== nodes.length) {
    select.replaceChildren(el("option", { value: "" }, "all nodes"), ...nodes.map((n) => el("option", { value: n }, n)));
    select.value = nodeFilter;
  }
  renderGantt();
  renderSteps();
}

// -- Gantt: one row per step, one bar per attempt ----------------------------------------------
function renderGantt() {
  const allSteps = detail.steps ?? [];
  const steps = allSteps.slice(0, MAX_GANTT_ROWS);
  const box = document.getElementById("gantt");
  const attempts = steps.flatMap((s) => s.attempts ?? []).filter((a) => a.start_time);
  if (!attempts.length) {
    emptyText(box, detail.status === "queued" ? "Queued: waiting for the daemon to start it." : "No attempts yet.");
    return;
  }
  const now = Date.now() / 1000;
  const t0 = Math.min(...attempts.map((a) => a.start_time));
  const t1 = Math.max(...attempts.map((a) => a.end_time ?? now), detail.end_time ?? 0);
  const span = Math.max(t1 - t0, 0.001);
  const labelWidth = 200;
  const rowHeight = 24;
  const width = Math.max(box.clientWidth || 900, 500);
  const height = 24 + steps.length * rowHeight;
  const canvas = el("canvas", { role: "img", "aria-label": "timeline of step attempts" });
  const ratio = window.devicePixelRatio || 1;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  ctx.font = "12px system-ui, sans-serif";
  ctx.textBaseline = "middle";
  const plot = width - labelWidth - 10;
  const x = (t) => labelWidth + ((t - t0) / span) * plot;
  ctx.strokeStyle = "#e3e6eb";
  ctx.fillStyle = "#667085";
  for (let i = 0; i <= 5; i++) {
    const gx = labelWidth + (plot * i) / 5;
    ctx.beginPath(); ctx.moveTo(gx, 18); ctx.lineTo(gx, height); ctx.stroke();
    ctx.fillText(`+${duration((span * i) / 5)}`, Math.min(gx + 3, width - 60), 9);
  }
  steps.forEach((step, row) => {
    const y = 24 + row * rowHeight;
    ctx.fillStyle = "#1d2330";
    ctx.fillText(step.node.length > 28 ? `${step.node.slice(0, 27)}…` : step.node, 4, y + rowHeight / 2);
    for (const a of step.attempts ?? []) {
      if (!a.start_time) continue;
      const x0 = x(a.start_time);
      const x1 = Math.max(x(a.end_time ?? now), x0 + 3);
      ctx.fillStyle = stateColor(a.status);
      ctx.fillRect(x0, y + 4, x1 - x0, rowHeight - 8);
    }
  });
  const total = detail.step_count ?? allSteps.length;
  replace(box, canvas, total > steps.length
    ? el("p", { class: "muted" }, `and ${total - steps.length} more steps: see the Steps tab`) : null);
}

// -- logs and events ---------------------------------------------------------------------------
const pad = (n, w = 2) => String(n).padStart(w, "0");
function stamp(ts) {
  const d = new Date(ts * 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function logLine(e) {
  let text = e.message || e.event_type.replaceAll("_", " ");
  if (e.event_type === "step_start") text = `attempt ${(e.attempt ?? 0) + 1} started`;
  if (e.event_type === "step_success") text = "succeeded";
  const level = e.level ?? (["step_failure", "run_failure"].includes(e.event_type) ? "ERROR" : "INFO");
  const line = el("div", { class: `lvl-${level}` },
    el("span", { class: "muted" }, stamp(e.timestamp)), " ", level.padEnd(7), " ",
    e.node ? el("span", { class: "ev" }, `[${e.node}] `) : null, text);
  if (e.event_type === "step_failure" && e.data?.traceback) line.append("\n", e.data.traceback.trimEnd());
  return line;
}

const logs = document.getElementById("tab-logs");
function appendEvents(batch) {
  const stick = logs.scrollTop + logs.clientHeight >= logs.scrollHeight - 20;
  for (const e of batch) {
    events.push(e);
    if (e.event_type === "materialization_planned") continue;
    if (nodeFilter && e.node !== nodeFilter) continue;
    logs.append(logLine(e));
  }
  while (logs.childElementCount > MAX_LOG_LINES) logs.firstElementChild.remove();
  if (events.length > MAX_EVENTS) events.splice(0, events.length - MAX_EVENTS);
  if (stick) logs.scrollTop = logs.scrollHeight;
  if (!document.getElementById("tab-events").hidden) renderEvents();
}

function renderLogs() {
  const shown = events.filter((e) => e.event_type !== "materialization_planned" && (!nodeFilter || e.node === nodeFilter));
  logs.replaceChildren(...shown.slice(-MAX_LOG_LINES).map(logLine));
  logs.scrollTop = logs.scrollHeight;
}

function renderEvents() {
  const shown = events.filter((e) => !nodeFilter || e.node === nodeFilter).slice(-2000);
  replace("tab-events", table(
    [
      { label: "Time", cell: (e) => stamp(e.timestamp) },
      { label: "Event", cell: (e) => e.event_type.replaceAll("_", " ") },
      { label: "Node", cell: (e) => e.node ?? "" },
      { label: "Message", cell: (e) => e.message },
    ],
    shown,
    { empty: "No events yet." },
  ));
}

function renderSteps() {
  replace("tab-steps", table(
    [
      { label: "Node", cell: (s) => s.node },
      { label: "Kind", cell: (s) => s.kind },
      { label: "Status", cell: (s) => pill(s.status) },
      { label: "Attempts", cell: (s) => String((s.attempts ?? []).length), num: true },
      { label: "Duration", cell: (s) => {
        const a = s.attempts?.[s.attempts.length - 1];
        return a?.start_time && a?.end_time ? duration(a.end_time - a.start_time) : "—";
      }, num: true },
    ],
    detail.steps ?? [],
    { empty: "No steps." },
  ), (detail.step_count ?? 0) > (detail.steps ?? []).length
    ? el("p", { class: "muted" }, `The first ${detail.steps.length} of ${detail.step_count} steps (`,
      el("a", { href: `/api/v1/runs/${runId}?steps_limit=100000` }, "all of them"), ").")
    : null);
}

document.getElementById("node-filter").addEventListener("change", (e) => {
  nodeFilter = e.target.value;
  renderLogs();
  renderEvents();
});
for (const button of document.querySelectorAll("#tabs button")) {
  button.addEventListener("click", () => {
    for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("on", b === button);
    for (const name of ["logs", "events", "steps"]) document.getElementById(`tab-${name}`).hidden = name !== button.dataset.tab;
    if (button.dataset.tab === "events") renderEvents();
  });
}

async function load() {
  detail = await api(`/runs/${encodeURIComponent(runId)}`);
  renderDetail();
}
const refresh = throttle(() => load().catch(() => {}), 700);

load()
  .then(() => {
    let lastStatus = detail.status;
    live({
      runId,
      onHello: (hello) => {
        if (hello.older_events_left_out && !logs.querySelector(".older")) {
          logs.prepend(el("div", { class: "older muted" }, "Older lines are left out here: ",
            el("a", { href: `/api/v1/runs/${runId}/logs?limit=10000` }, "the whole log"), "."));
        }
      },
      onEvents: (batch) => {
        appendEvents(batch);
        refresh();
      },
      onRun: (run) => {
        if (run.status !== lastStatus) {
          lastStatus = run.status;
          refresh();
        }
      },
    });
  })
  .catch((err) => showError("run-meta", err));
window.addEventListener("resize", throttle(() => detail && renderGantt(), 200));
