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
load().catch((err) => showError("progress", err));
live({ onChange: throttle(() => load().catch(() => {}), 1500) });
