// Runs list: filters in the URL, keyset pages ("Older runs"), the first page refreshed live.
import { api, duration, el, live, pill, qs, replace, runLink, showError, table, throttle, when } from "../deras.js";

const form = document.getElementById("filters");
const params = new URLSearchParams(location.search);
for (const name of ["status", "target", "dag_id", "tag"]) if (params.get(name)) form.elements[name].value = params.get(name);
const filters = Object.fromEntries([...params.entries()].filter(([k]) => ["status", "target", "dag_id", "tag", "backfill_id"].includes(k)));
const pages = [];
const more = document.getElementById("more");

const columns = [
  { label: "Run", cell: (r) => runLink(r.run_id) },
  { label: "Status", cell: (r) => [pill(r.status), r.owner_gone ? el("span", { class: "muted", title: r.owner_gone }, " owner gone") : null] },
  { label: "Target", cell: (r) => targetCell(r) },
  { label: "Partition / date", cell: (r) => r.partition_key ?? (r.partition_range ? r.partition_range.join(" … ") : r.logical_date ?? "") },
  { label: "Created", cell: (r) => when(r.create_time) },
  { label: "Duration", cell: (r) => duration(r.duration ?? (r.start_time && !r.end_time ? Date.now() / 1000 - r.start_time : null)), num: true },
];

export function targetCell(r) {
  if (r.dag_id) return el("a", { href: `/dags/${encodeURIComponent(r.dag_id)}` }, r.dag_id);
  return el("span", { class: "mono" }, r.target);
}

function render() {
  replace("runs-table", table(columns, pages.flatMap((p) => p.items), { empty: "No runs match." }));
  const last = pages[pages.length - 1];
  more.hidden = !last?.next_cursor;
}

async function load(cursor) {
  const page = await api(`/runs${qs({ ...filters, limit: 50, cursor })}`);
  if (cursor) pages.push(page);
  else pages.splice(0, 1, page);
  render();
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  const next = Object.fromEntries([...new FormData(form).entries()].filter(([, v]) => v));
  location.search = qs(next);
});
more.addEventListener("click", () => load(pages[pages.length - 1].next_cursor).catch((err) => showError("runs-table", err)));
load().catch((err) => showError("runs-table", err));
live({ onChange: throttle(() => load().catch(() => {}), 1000) });
