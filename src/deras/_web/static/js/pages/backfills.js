// Backfills: launch one from a partition range (of a partitioned job, asset or DAG), and the list.
import { api, el, live, pill, qs, replace, showError, table, throttle, toast, when } from "../deras.js";

const form = document.getElementById("launch");
const target = document.getElementById("target");

// Every partitioned asset: the listing's pages, filtered by the server.
async function partitionedAssets() {
  const found = [];
  let cursor = null;
  do {
    const page = await api(`/assets${qs({ partitioned: "true", limit: 1000, cursor })}`);
    found.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return found;
}

async function targets() {
  const [locations, assets, dags] = await Promise.all([api("/locations"), partitionedAssets().catch(() => []), api("/dags").catch(() => [])]);
  const options = [];
  for (const loc of locations) for (const job of loc.jobs ?? []) if (job.partitioned) options.push(["job", job.name, `job ${job.name}`]);
  for (const a of assets) if (a.partitioned) options.push(["selection", a.key, `asset ${a.key}`]);
  for (const d of dags) options.push(["dag_id", d.dag_id, `DAG ${d.dag_id} (logical dates)`]);
  target.replaceChildren(...options.map(([kind, value, label]) => el("option", { value: `${kind}:${value}` }, label)));
  if (!options.length) target.replaceChildren(el("option", { value: "" }, "nothing partitioned in the definitions"));
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const data = new FormData(form);
  const [kind, ...rest] = String(data.get("target")).split(":");
  const body = { [kind]: rest.join(":"), partition_range: [data.get("first"), data.get("last")] };
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const out = await api("/backfills", { method: "POST", body });
    toast("backfill launched");
    location.href = `/backfills/${encodeURIComponent(out.backfill_id)}`;
  } catch (err) {
    toast(err.message, true);
  } finally {
    button.disabled = false;
  }
});

function progress(b) {
  const c = b.counts ?? {};
  const total = Object.values(c).reduce((a, n) => a + n, 0);
  return `${(c.success ?? 0) + (c.failure ?? 0) + (c.skipped ?? 0) + (c.canceled ?? 0)} / ${total}`;
}

async function load() {
  const page = await api(`/backfills${qs({ limit: 50 })}`);
  replace("backfills-table", table(
    [
      { label: "Backfill", cell: (b) => el("a", { href: `/backfills/${encodeURIComponent(b.backfill_id)}`, class: "mono" }, b.backfill_id) },
      { label: "Status", cell: (b) => pill(b.status) },
      { label: "Target", cell: (b) => b.target_label ?? b.target ?? "" },
      { label: "Partitions", cell: (b) => (b.partition_range ? b.partition_range.join(" … ") : `${b.partition_count ?? ""}`) },
      { label: "Done", cell: progress, num: true },
      { label: "Created", cell: (b) => when(b.create_time) },
    ],
    page.items,
    { empty: "No backfills yet." },
  ));
}
targets().catch((err) => showError("launch", err));
load().catch((err) => (err.status === 501
  ? replace("backfills-table", el("div", { class: "empty" }, `${err.message}: launch one above; its page lists its runs.`))
  : showError("backfills-table", err)));
live({ onChange: throttle(() => load().catch(() => {}), 2000) });

