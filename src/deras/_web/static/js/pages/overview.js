// Overview: recent runs, failing checks, next ticks, daemon health — one API call, refreshed live.
import { api, assetLink, el, live, pill, replace, runLink, showError, table, throttle, when } from "../deras.js";

function stat(label, value, href) {
  const body = [el("div", { class: "stat" }, value), el("div", { class: "stat-label" }, label)];
  return el("section", { class: "panel" }, href ? el("a", { href }, body) : body);
}

// Until the read model has an overview (a 501), the page builds one from the runs and assets.
async function fetchOverview() {
  try {
    return await api("/overview");
  } catch (err) {
    if (err.status !== 501) throw err;
    const [runs, assets] = await Promise.all([api("/runs?limit=10"), api("/assets?limit=1000").then((p) => p.items).catch(() => [])]);
    const failing = assets.flatMap((a) => (a.checks ?? []).filter((c) => c.passed === false)
      .map((c) => ({ name: c.name, asset_key: a.key, timestamp: c.timestamp, run_id: c.run_id })));
    return { recent_runs: runs.items, failing_checks: failing, next_ticks: [], daemon: { message: err.message } };
  }
}

async function load() {
  const o = await fetchOverview();
  const runs = o.recent_runs ?? [];
  const failingChecks = o.failing_checks ?? [];
  const ticks = o.next_ticks ?? [];
  const health = o.daemon ?? o.health ?? {};
  const counts = o.run_counts ?? {};
  replace(
    "stats",
    stat("runs in progress", counts.started ?? runs.filter((r) => ["started", "starting"].includes(r.status)).length, "/runs?status=started"),
    stat("failed runs (24 h)", counts.failure ?? runs.filter((r) => r.status === "failure").length, "/runs?status=failure"),
    stat("queued", health.queue_depth ?? counts.queued ?? 0, "/runs?status=queued"),
  );
  replace("recent-runs", table(
    [
      { label: "Run", cell: (r) => runLink(r.run_id) },
      { label: "Status", cell: (r) => pill(r.status) },
      { label: "Target", cell: (r) => r.dag_id ?? r.target },
      { label: "Created", cell: (r) => when(r.create_time) },
    ],
    runs.slice(0, 10),
    { empty: "No runs yet: launch one from Assets or DAGs." },
  ));
  replace("failing-checks", table(
    [
      { label: "Check", cell: (c) => c.name ?? c.check_name },
      { label: "Asset", cell: (c) => assetLink(c.asset_key) },
      { label: "When", cell: (c) => when(c.timestamp ?? c.time) },
      { label: "Run", cell: (c) => (c.run_id ? runLink(c.run_id) : "") },
    ],
    failingChecks,
    { empty: "No failing checks." },
  ));
  replace("next-ticks", table(
    [
      { label: "Name", cell: (t) => el("a", { href: `/automation/${t.kind === "sensor" ? "sensors" : "schedules"}/${encodeURIComponent(t.name)}` }, t.name) },
      { label: "Next tick", cell: (t) => when(t.timestamp ?? (t.next_tick ? Date.parse(t.next_tick) / 1000 : null)) },
    ],
    ticks,
    { empty: "No running schedules." },
  ));
  const daemons = health.daemons ?? [];
  replace("daemon-health", [
    el("div", {}, health.healthy === false ? pill("failure") : health.healthy ? pill("success") : pill("missing"), " ",
      health.message ?? (daemons.length ? `${daemons.length} daemon(s)` : "no daemon heartbeat: run `deras daemon run` or `deras dev`")),
    table(
      [
        { label: "Daemon", cell: (d) => el("span", { class: "mono" }, d.daemon_id ?? d.owner ?? d.id ?? "") },
        { label: "Last heartbeat", cell: (d) => when(d.last_heartbeat ?? d.heartbeat) },
      ],
      daemons,
      { empty: "" },
    ),
  ]);
}

load().catch((err) => showError("recent-runs", err));
live({ onChange: throttle(() => load().catch(() => {}), 1500) });
