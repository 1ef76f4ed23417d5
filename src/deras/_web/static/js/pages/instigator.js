// One schedule's or sensor's ticks: status, skip reasons, errors, runs; start/stop.
import { actionButton, api, el, live, pill, qs, replace, runLink, showError, table, throttle, toast, when } from "../deras.js";

const { kind, name } = document.getElementById("main").dataset;
const pages = [];
const more = document.getElementById("more");

async function header() {
  const items = await api(`/${kind}`);
  // `name` is the key ("dag:etl", "schedule:nightly") or the name the page was opened with
  const item = items.find((i) => i.key === name) ?? items.find((i) => i.name === name);
  const title = document.getElementById("title");
  title.replaceChildren(item?.name ?? name, " ", item ? pill(item.status) : "", el("span", { class: "sub" }, kind === "schedules" ? `${item?.cron ?? ""} ${item?.timezone ?? ""}` : `every ${item?.minimum_interval ?? "?"} s`));
  const running = item?.status === "running";
  replace("actions", [
    actionButton(running ? "Stop" : "Start", async () => {
      const out = await api(`/${kind}/${encodeURIComponent(name)}/${running ? "stop" : "start"}`, { method: "POST" });
      toast(`${out.name} ${out.status}`);
      header();
    }, { kind: running ? "danger" : "primary" }),
    item?.next_ticks?.length ? el("span", { class: "muted" }, "next: ", item.next_ticks.slice(0, 3).map((t) => `${when(typeof t === "number" ? t : Date.parse(t) / 1000)}  `)) : null,
  ]);
}

function render() {
  replace("ticks", table(
    [
      { label: "Tick", cell: (t) => when(t.tick_time ?? t.timestamp) },
      { label: "Status", cell: (t) => pill(t.status) },
      { label: "Runs", cell: (t) => (t.run_ids ?? []).flatMap((r) => [runLink(r), " "]) },
      { label: "Skip reason / error", cell: (t) => (t.error ? el("pre", { class: "traceback" }, t.error) : t.skip_reason ?? "") },
    ],
    pages.flatMap((p) => p.items),
    { empty: "No ticks yet: start it, and run the daemon." },
  ));
  more.hidden = !pages[pages.length - 1]?.next_cursor;
}

async function load(cursor) {
  const page = await api(`/${kind}/${encodeURIComponent(name)}/ticks${qs({ limit: 50, cursor })}`);
  if (cursor) pages.push(page);
  else pages.splice(0, 1, page);
  render();
}
more.addEventListener("click", () => load(pages[pages.length - 1].next_cursor).catch((err) => showError("ticks", err)));
header().catch((err) => showError("actions", err));
load().catch((err) => showError("ticks", err));
live({ onChange: throttle(() => load().catch(() => {}), 2000) });
