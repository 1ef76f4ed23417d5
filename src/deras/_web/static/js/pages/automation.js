// Schedules and sensors: state, next ticks, last tick; start and stop.
import { actionButton, api, el, live, pill, replace, runLink, showError, table, throttle, toast, when } from "../deras.js";

const tsOf = (t) => (typeof t === "number" ? t : t ? Date.parse(t) / 1000 : null);
// The API and the pages address one by its key ("dag:etl": a DAG's own schedule), else its name.
const ref = (item) => encodeURIComponent(item.key ?? item.name);

function controls(kind, item) {
  if (item.unknown) {
    return ["start", "stop"].map((verb) => actionButton(verb === "start" ? "Start" : "Stop", async () => {
      const out = await api(`/${kind}/${ref(item)}/${verb}`, { method: "POST" });
      toast(`${item.name} ${out.status}`);
    }, { kind: verb === "start" ? "primary" : "danger" }));
  }
  const running = item.status === "running";
  return actionButton(running ? "Stop" : "Start", async () => {
    const out = await api(`/${kind}/${ref(item)}/${running ? "stop" : "start"}`, { method: "POST" });
    toast(`${item.name} ${out.status}`);
    load();
  }, { kind: running ? "danger" : "primary" });
}

function lastTick(item) {
  const t = item.last_tick;
  if (!t) return "—";
  return [pill(t.status), " ", when(t.tick_time ?? t.timestamp), " ", (t.run_ids ?? []).slice(0, 3).map(runLink),
    t.skip_reason ? el("div", { class: "muted" }, t.skip_reason) : null,
    t.error ? el("div", { class: "error-box" }, t.error.split("\n")[0]) : null];
}

const link = (kind, item) => el("a", { href: `/automation/${kind}/${ref(item)}` }, item.name,
  item.kind === "dag" ? el("span", { class: "muted" }, " (DAG)") : null);

// Until the read model has schedules and sensors (a 501), list them from the code locations:
// their state is unknown here, so both Start and Stop are offered.
async function fetchBoth() {
  try {
    return await Promise.all([api("/schedules"), api("/sensors")]);
  } catch (err) {
    if (err.status !== 501) throw err;
    const locations = await api("/locations");
    const unknown = (items) => items.map((i) => ({ ...i, status: null, unknown: true }));
    if (!document.getElementById("no-states")) {
      document.getElementById("schedules").before(el("p", { class: "muted", id: "no-states" }, `${err.message}: states and ticks are not shown.`));
    }
    return [unknown(locations.flatMap((l) => l.schedules ?? [])), unknown(locations.flatMap((l) => l.sensors ?? []))];
  }
}

async function load() {
  const [schedules, sensors] = await fetchBoth();
  replace("schedules", table(
    [
      { label: "Schedule", cell: (s) => link("schedules", s) },
      { label: "Cron", cell: (s) => el("span", { class: "mono" }, `${s.cron ?? s.cron_schedule ?? ""} ${s.timezone ?? ""}`) },
      { label: "Target", cell: (s) => s.target ?? "" },
      { label: "State", cell: (s) => pill(s.status) },
      { label: "Next ticks", cell: (s) => (s.next_ticks ?? []).slice(0, 3).map((t) => el("div", {}, when(tsOf(t)))) },
      { label: "Last tick", cell: lastTick },
      { label: "", cell: (s) => controls("schedules", s) },
    ],
    schedules,
    { empty: "No schedules in the definitions." },
  ));
  replace("sensors", table(
    [
      { label: "Sensor", cell: (s) => link("sensors", s) },
      { label: "Kind", cell: (s) => s.kind ?? "sensor" },
      { label: "Every", cell: (s) => `${s.minimum_interval ?? 30} s` },
      { label: "Target", cell: (s) => s.target ?? "" },
      { label: "State", cell: (s) => pill(s.status) },
      { label: "Last tick", cell: lastTick },
      { label: "", cell: (s) => controls("sensors", s) },
    ],
    sensors,
    { empty: "No sensors in the definitions." },
  ));
}
load().catch((err) => showError("schedules", err));
live({ onChange: throttle(() => load().catch(() => {}), 2000) });
