// Code locations: what each defines, or its load error with the traceback; reload.
import { actionButton, api, el, replace, showError, toast, when } from "../deras.js";

function card(loc) {
  const where = loc.location?.file ?? loc.location?.module ?? loc.location?.dags_folder ?? "";
  const reload = actionButton("Reload", async () => {
    const out = await api(`/locations/${encodeURIComponent(loc.name)}/reload`, { method: "POST" });
    toast(out.status === "error" ? "still failing to load" : "reloaded", out.status === "error");
    load();
  });
  const body = loc.status === "error"
    ? [el("div", { class: "error-box" }, loc.error.message),
      loc.error.file ? el("p", { class: "muted" }, `${loc.error.file}${loc.error.line ? `:${loc.error.line}` : ""}`) : null,
      loc.error.traceback ? el("pre", { class: "traceback" }, loc.error.traceback) : null,
      el("p", { class: "muted" }, "Fix the file, then reload.")]
    : [el("dl", { class: "meta-list" }, Object.entries(loc.counts ?? {}).flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, String(v))]),
      el("dt", {}, "loaded"), el("dd", {}, when(loc.loaded_at)), el("dt", {}, "version"), el("dd", { class: "mono" }, (loc.version ?? "").slice(0, 12))),
      // A DAG folder's files that did not import: the others loaded.
      ...Object.entries(loc.load_errors ?? {}).flatMap(([file, traceback]) => [
        el("div", { class: "error-box" }, `${file} did not load`), el("pre", { class: "traceback" }, traceback)])];
  return el("section", { class: "panel" },
    el("h2", {}, loc.name, " ", el("span", { class: `pill ${loc.status === "error" ? "error" : "success"}` }, loc.status)),
    el("p", { class: "mono muted" }, where), el("div", { class: "toolbar" }, reload), body);
}

async function load() {
  const locations = await api("/locations");
  if (!locations.length) replace("locations", el("div", { class: "empty" }, "No code location: start the server with `deras web -f FILE`."));
  else replace("locations", locations.map(card));
}
load().catch((err) => showError("locations", err));
