// One backfill: per-partition progress (a bar from counts, the units as a table), cancel.
import { actionButton, api, el, live, pill, replace, runLink, showError, stateColor, table, throttle, toast, when } from "../deras.js";

const backfillId = document.getElementById("main").dataset.backfillId;

function bar(counts) {
  const total = Object.values(counts).reduce((a, n) => a + n, 0) || 1;
  const canvas = el("canvas", { class: "partition-bar", role: "img", "aria-label": "backfill progress" });
  requestAnimationFrame(() => {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 600;
    canvas.width = width * ratio;
    canvas.height = 22 * ratio;
    const ctx = canvas.getContext("2d");
    ctx.scale(ratio, ratio);
    let x = 0;
    for (const state of ["success", "failure", "skipped", "canceled", "queued", "pending"]) {
      const w = ((counts[state] ?? 0) / total) * width;
      ctx.fillStyle = stateColor(state);
      ctx.fillRect(x, 0, w, 22);
      x += w;
    }
  });
  return [canvas, el("div", { class: "toolbar" }, Object.entries(counts).map(([s, n]) => el("span", {}, pill(s), ` ${n}`)))];
}

async function load() {
  const b = await api(`/backfills/${encodeURIComponent(backfillId)}`);
  document.getElementById("title").replaceChildren(`Backfill ${backfillId} `, pill(b.status));
  replace("actions", [
    b.status === "requested" ? actionButton("Cancel", async () => {
      await api(`/backfills/${encodeURIComponent(backfillId)}/cancel`, { method: "POST" });
      toast("canceling");
      load();
    }, { kind: "danger" }) : null,
    el("a", { class: "button", href: `/runs?backfill_id=${encodeURIComponent(backfillId)}` }, "Runs"),
    el("span", { class: "muted" }, `created ${when(b.create_time)}`),
  ]);
  replace("progress", bar(b.counts ?? {}));
  replace("units", table(
    [
      { label: "Partition", cell: (u) => u.partition_key ?? u.partition ?? "" },
      { label: "Status", cell: (u) => pill(u.status) },
      { label: "Run", cell: (u) => (u.run_id ? runLink(u.run_id) : "") },
    ],
    (b.units ?? b.partitions ?? []).slice(0, 2000),
    { empty: "No partitions." },
  ));
}
// Until the read model has backfills (a 501): the backfill's runs, from the runs list.
async function loadRuns(err) {
  const page = await api(`/runs?backfill_id=${encodeURIComponent(backfillId)}&limit=500`);
  document.getElementById("title").replaceChildren(`Backfill ${backfillId}`);
  replace("actions", el("a", { class: "button", href: `/runs?backfill_id=${encodeURIComponent(backfillId)}` }, "Runs"));
  const counts = {};
  for (const r of page.items) counts[r.status] = (counts[r.status] ?? 0) + 1;
  replace("progress", [el("p", { class: "muted" }, `${err.message}: progress counted from its runs so far.`), bar(counts)]);
  replace("units", table(
    [
      { label: "Partition", cell: (r) => r.partition_key ?? "" },
      { label: "Status", cell: (r) => pill(r.status) },
      { label: "Run", cell: (r) => runLink(r.run_id) },
    ],
    page.items,
    { empty: "No runs yet: the daemon queues them." },
  ));
}

load().catch((err) => (err.status === 501 ? loadRuns(err) : Promise.reject(err))).catch((err) => showError("progress", err));
live({ onChange: throttle(() => load().catch((err) => (err.status === 501 ? loadRuns(err) : null)), 1500) });
