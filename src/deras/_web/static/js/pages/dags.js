// DAG list: schedule, last run, next run.
import { api, el, live, pill, replace, runLink, showError, table, throttle, when } from "../deras.js";

async function load() {
  const dags = await api("/dags");
  replace("dags-table", table(
    [
      { label: "DAG", cell: (d) => el("a", { href: `/dags/${encodeURIComponent(d.dag_id)}` }, d.dag_id) },
      { label: "Schedule", cell: (d) => el("span", { class: "mono" }, d.schedule) },
      { label: "Tasks", cell: (d) => String(d.tasks), num: true },
      { label: "Tags", cell: (d) => (d.tags ?? []).join(", ") },
      { label: "Last run", cell: (d) => (d.last_run ? [pill(d.last_run.status), " ", runLink(d.last_run.run_id), " ", d.last_run.logical_date ?? ""] : "—") },
      { label: "Next run", cell: (d) => d.next_run ?? "—" },
    ],
    dags,
    { empty: "No DAGs in the definitions." },
  ));
}
load().catch((err) => showError("dags-table", err));
live({ onChange: throttle(() => load().catch(() => {}), 2000) });
