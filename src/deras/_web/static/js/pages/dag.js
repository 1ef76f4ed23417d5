// DAG page: the grid (tasks x a window of runs, coloured by state, drawn on a canvas for the
// rows in view only, so 5,000 tasks scroll smoothly), the graph (the server's layered layout),
// trigger with conf, and clearing a task instance of a run.
import { actionButton, api, count, el, live, pill, qs, replace, showError, stateColor, throttle, toast } from "../deras.js";

const dagId = document.getElementById("main").dataset.dagId;
const box = document.getElementById("grid");
const ROW = 18;
const COL = 22;
const HEAD = 26;
let grid = null;
let labelWidth = 220;
const cursors = []; // cursors of the windows before the shown one (for "Newer runs")
let cursor = null;
let selected = null;

const inner = el("div", { class: "grid-inner" });
const canvas = el("canvas", { role: "img", "aria-label": "task instances by run" });
const details = el("div", { class: "toolbar", id: "cell" });
inner.append(canvas);
box.append(inner);
box.after(details);
canvas.style.position = "sticky";
canvas.style.top = "0";
canvas.style.left = "0";

function layoutGrid() {
  const ctx = canvas.getContext("2d");
  ctx.font = "12px system-ui, sans-serif";
  labelWidth = Math.min(320, Math.max(120, ...grid.tasks.slice(0, 2000).map((t) => ctx.measureText(t).width + 16)));
  inner.style.height = `${HEAD + grid.tasks.length * ROW + 4}px`;
  inner.style.width = `${labelWidth + grid.runs.length * COL + 10}px`;
}

function paint() {
  if (!grid) return;
  const ratio = window.devicePixelRatio || 1;
  const w = Math.min(box.clientWidth, labelWidth + grid.runs.length * COL + 10);
  const h = Math.min(box.clientHeight || 600, HEAD + grid.tasks.length * ROW + 4);
  canvas.width = w * ratio;
  canvas.height = h * ratio;
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  canvas.style.marginBottom = `${-h}px`;
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  ctx.clearRect(0, 0, w, h);
  ctx.font = "12px system-ui, sans-serif";
  ctx.textBaseline = "middle";
  const top = box.scrollTop;
  const firstRow = Math.floor(top / ROW);
  const rows = Math.ceil(h / ROW) + 1;
  // runs, oldest left: the window comes latest first
  const runs = [...grid.runs].reverse();
  const states = [...grid.states].reverse();
  for (let r = firstRow; r < Math.min(grid.tasks.length, firstRow + rows); r++) {
    const y = HEAD + r * ROW - top;
    if (y < HEAD - ROW) continue;
    if (r % 2) {
      ctx.fillStyle = "#fafbfc";
      ctx.fillRect(0, y, w, ROW);
    }
    ctx.fillStyle = "#1d2330";
    const task = grid.tasks[r];
    ctx.fillText(task.length > 40 ? `${task.slice(0, 39)}…` : task, 6, y + ROW / 2);
    runs.forEach((run, c) => {
      const state = states[c][r];
      if (!state) return;
      ctx.fillStyle = stateColor(state);
      ctx.fillRect(labelWidth + c * COL + 3, y + 3, COL - 6, ROW - 6);
    });
    if (selected && selected.task === r) {
      ctx.strokeStyle = "#3b5bdb";
      ctx.strokeRect(labelWidth + selected.col * COL + 1, y + 1, COL - 2, ROW - 2);
    }
  }
  // header: one bar per run, its status
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, w, HEAD);
  ctx.fillStyle = "#667085";
  ctx.fillText(`${count(grid.tasks.length, "task")} × ${count(grid.runs.length, "run")}`, 6, HEAD / 2);
  runs.forEach((run, c) => {
    ctx.fillStyle = stateColor(run.status);
    ctx.fillRect(labelWidth + c * COL + 3, 4, COL - 6, HEAD - 8);
  });
}

function cellAt(event) {
  const rect = canvas.getBoundingClientRect();
  const x = event.clientX - rect.left;
  const y = event.clientY - rect.top;
  const col = Math.floor((x - labelWidth) / COL);
  const runs = [...grid.runs].reverse();
  if (col < 0 || col >= runs.length) return null;
  if (y < HEAD) return { run: runs[col], col, task: null };
  const task = Math.floor((y - HEAD + box.scrollTop) / ROW);
  if (task < 0 || task >= grid.tasks.length) return null;
  return { run: runs[col], col, task, state: [...grid.states].reverse()[col][task] };
}

canvas.addEventListener("mousemove", (e) => {
  const cell = grid && cellAt(e);
  canvas.title = !cell ? "" : cell.task === null
    ? `${cell.run.logical_date ?? cell.run.run_id}: ${cell.run.status}`
    : `${grid.tasks[cell.task]} @ ${cell.run.logical_date ?? cell.run.run_id}: ${cell.state ?? "no instance"}`;
});
canvas.addEventListener("click", (e) => {
  const cell = grid && cellAt(e);
  if (!cell) return;
  if (cell.task === null) {
    location.href = `/runs/${cell.run.run_id}`;
    return;
  }
  selected = cell;
  const task = grid.tasks[cell.task];
  replace(details, [
    el("strong", {}, task), " in run ", el("a", { href: `/runs/${cell.run.run_id}` }, cell.run.logical_date ?? cell.run.run_id.slice(0, 8)), " ",
    pill(cell.state ?? "missing"),
    actionButton("Clear (run it again)", async () => {
      await api(`/runs/${cell.run.run_id}/clear`, { method: "POST", body: { tasks: [task], downstream: false } });
      toast(`${task} cleared: it runs again in ${cell.run.run_id.slice(0, 8)}`);
    }),
    actionButton("Clear with downstream", async () => {
      await api(`/runs/${cell.run.run_id}/clear`, { method: "POST", body: { tasks: [task], downstream: true } });
      toast(`${task} and downstream cleared`);
    }),
  ]);
  paint();
});
box.addEventListener("scroll", () => requestAnimationFrame(paint));
window.addEventListener("resize", throttle(paint, 100));

async function loadGrid() {
  grid = await api(`/dags/${encodeURIComponent(dagId)}/grid${qs({ limit: 25, before: cursor })}`);
  // cells: one letter per task and run (see state_codes) -> states[run][task]
  grid.states = grid.cells.map((row) => Array.from(row, (c) => grid.state_codes[c] ?? null));
  if (!grid.runs.length && !cursor) {
    replace(box, el("div", { class: "empty" }, "No runs of this DAG yet: trigger one."));
    return;
  }
  layoutGrid();
  canvas.setAttribute("aria-label", `${count(grid.tasks.length, "task")} by ${count(grid.runs.length, "run")}`);
  paint();
  document.getElementById("older").hidden = !grid.next_cursor;
  document.getElementById("newer").hidden = !cursors.length;
  if (!document.body.dataset.gridReady) performance.mark("grid-ready");
  document.body.dataset.gridReady = "true";
}

document.getElementById("older").addEventListener("click", () => {
  cursors.push(cursor);
  cursor = grid.next_cursor;
  loadGrid().catch((err) => showError(box, err));
});
document.getElementById("newer").addEventListener("click", () => {
  cursor = cursors.pop() ?? null;
  loadGrid().catch((err) => showError(box, err));
});

// -- graph ------------------------------------------------------------------------------------
async function drawGraph() {
  const dag = await api(`/dags/${encodeURIComponent(dagId)}`);
  const lay = dag.layout;
  const graph = document.getElementById("dag-graph");
  const latest = grid?.runs?.[0];
  const stateOf = {};
  if (latest) grid.tasks.forEach((t, i) => (stateOf[t] = grid.states[0][i]));
  const width = graph.parentElement.clientWidth - 32;
  const scale = Math.min(1, width / Math.max(lay.width, 1));
  const height = Math.max(lay.height * scale + 20, 80);
  const ratio = window.devicePixelRatio || 1;
  graph.width = width * ratio;
  graph.height = height * ratio;
  graph.style.width = `${width}px`;
  graph.style.height = `${height}px`;
  const ctx = graph.getContext("2d");
  ctx.scale(ratio * scale, ratio * scale);
  ctx.translate(4, 4);
  const { x, y, key } = lay.nodes;
  const nw = lay.node_width;
  const nh = lay.node_height;
  ctx.strokeStyle = "#98a2b3";
  ctx.beginPath();
  for (const [u, v] of lay.edges) {
    const mid = (x[u] + nw + x[v]) / 2;
    ctx.moveTo(x[u] + nw, y[u] + nh / 2);
    ctx.bezierCurveTo(mid, y[u] + nh / 2, mid, y[v] + nh / 2, x[v], y[v] + nh / 2);
  }
  ctx.stroke();
  ctx.font = "13px system-ui, sans-serif";
  ctx.textBaseline = "middle";
  key.forEach((task, i) => {
    ctx.fillStyle = "#fff";
    ctx.strokeStyle = stateColor(stateOf[task] ?? "missing");
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.roundRect(x[i], y[i], nw, nh, 6);
    ctx.fill();
    ctx.stroke();
    ctx.fillStyle = "#1d2330";
    ctx.fillText(task.length > 22 ? `${task.slice(0, 21)}…` : task, x[i] + 10, y[i] + nh / 2);
  });
}

for (const button of document.querySelectorAll("#tabs button")) {
  button.addEventListener("click", () => {
    for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("on", b === button);
    document.getElementById("tab-grid").hidden = button.dataset.tab !== "grid";
    document.getElementById("tab-graph").hidden = button.dataset.tab !== "graph";
    if (button.dataset.tab === "graph") drawGraph().catch((err) => toast(err.message, true));
    else paint();
  });
}

// -- header and trigger -----------------------------------------------------------------------
async function header() {
  const dags = await api("/dags");
  const dag = dags.find((d) => d.dag_id === dagId);
  document.getElementById("title").replaceChildren(dagId, " ", el("span", { class: "sub" }, dag ? `${dag.schedule} · ${dag.timezone}` : ""));
  const conf = el("input", { placeholder: 'conf as JSON, e.g. {"n": 3}', "aria-label": "conf", size: 30 });
  const date = el("input", { placeholder: "logical date (optional)", "aria-label": "logical date", size: 22 });
  replace("dag-actions", [
    conf, date,
    actionButton("Trigger run", async () => {
      let parsed = {};
      if (conf.value.trim()) {
        try {
          parsed = JSON.parse(conf.value);
        } catch {
          throw new Error("conf is not valid JSON");
        }
      }
      const body = { dag_id: dagId, conf: parsed };
      if (date.value.trim()) body.logical_date = date.value.trim();
      const out = await api("/runs", { method: "POST", body });
      toast("DAG run queued");
      location.href = `/runs/${out.run_id}`;
    }, { kind: "primary" }),
    el("a", { class: "button", href: `/runs?dag_id=${encodeURIComponent(dagId)}` }, "All runs"),
  ]);
}

header().catch((err) => showError("dag-actions", err));
loadGrid().catch((err) => showError(box, err));
live({ onChange: throttle(() => !cursor && loadGrid().catch(() => {}), 1500) });
