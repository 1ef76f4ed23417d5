// deras: what every page shares — the API client (with the CSRF header), the live stream,
// a DOM builder (text only: no HTML from data, ever), formatting, and small widgets.

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (response.status === 401) {
    location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
    throw new ApiError(401, "log in first");
  }
  const data = response.headers.get("content-type")?.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const detail = typeof data === "object" && data ? data.detail : data;
    throw new ApiError(response.status, typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return data;
}

export function qs(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) search.append(key, one);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// The page's one live stream. `onChange` gets {run_ids, event_id}; with `runId`, `onEvents`
// gets the run's new events and `onRun` its status. Refetches are coalesced by `throttle`.
export function live({ runId, onChange, onEvents, onRun, onHello } = {}) {
  const badge = document.getElementById("live");
  const source = new EventSource(`/api/v1/stream${qs({ run_id: runId })}`);
  source.onopen = () => badge?.classList.add("on");
  source.onerror = () => badge?.classList.remove("on");
  if (onHello) source.addEventListener("hello", (e) => onHello(JSON.parse(e.data)));
  if (onChange) source.addEventListener("change", (e) => onChange(JSON.parse(e.data)));
  if (onEvents) source.addEventListener("events", (e) => onEvents(JSON.parse(e.data)));
  if (onRun) source.addEventListener("run", (e) => onRun(JSON.parse(e.data)));
  window.addEventListener("beforeunload", () => source.close());
  return source;
}

// Call `fn` at most once per `ms`, and once more after the last call (a trailing refresh).
export function throttle(fn, ms = 1000) {
  let last = 0;
  let timer = null;
  return (...args) => {
    const wait = last + ms - Date.now();
    if (wait <= 0) {
      last = Date.now();
      fn(...args);
    } else if (!timer) {
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        fn(...args);
      }, wait);
    }
  };
}

// el("a", {href: "/x", class: "y"}, "text", child) — children are nodes or text, never HTML.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function replace(target, ...children) {
  const node = typeof target === "string" ? document.getElementById(target) : target;
  node.classList.remove("empty");
  node.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export function emptyText(target, text) {
  const node = typeof target === "string" ? document.getElementById(target) : target;
  node.classList.add("empty");
  node.replaceChildren(text);
}

export function table(columns, rows, { empty = "Nothing yet" } = {}) {
  if (!rows.length) return el("div", { class: "empty" }, empty);
  return el(
    "table",
    {},
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", { class: c.num ? "num" : null }, c.label)))),
    el(
      "tbody",
      {},
      rows.map((row) => el("tr", {}, columns.map((c) => el("td", { class: c.num ? "num" : null }, c.cell(row))))),
    ),
  );
}

export const pill = (status) => el("span", { class: `pill ${status ?? "missing"}` }, (status ?? "—").replaceAll("_", " "));

// "1 run", "3 runs"; ``plural`` when adding an s is wrong ("matches").
export function count(n, noun, plural = `${noun}s`) {
  return `${n.toLocaleString()} ${n === 1 ? noun : plural}`;
}

export function when(ts) {
  if (!ts) return "—";
  const date = new Date(ts * 1000);
  const ago = (Date.now() - date.getTime()) / 1000;
  const text = date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
  if (ago < 0) return text;
  return ago < 60 ? `${Math.round(ago)} s ago` : ago < 3600 ? `${Math.round(ago / 60)} min ago` : text;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m} min ${Math.round(seconds % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function runLink(runId) {
  return el("a", { href: `/runs/${encodeURIComponent(runId)}`, class: "mono" }, runId.slice(0, 8));
}

export function assetLink(key) {
  return el("a", { href: `/assets/${key.split("/").map(encodeURIComponent).join("/")}` }, key);
}

export function toast(message, bad = false) {
  const node = el("div", { class: `toast${bad ? " bad" : ""}`, role: "status" }, message);
  document.body.append(node);
  setTimeout(() => node.remove(), bad ? 8000 : 4000);
}

// A button that runs `action` (async), shows its error as a toast, and is disabled meanwhile.
export function actionButton(label, action, { kind = "", title } = {}) {
  const button = el("button", { type: "button", class: kind, title }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await action();
    } catch (err) {
      toast(err.message ?? String(err), true);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

export function copyBox(text) {
  const button = el("button", { type: "button", title: "copy" }, "Copy");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      toast("copied");
    } catch {
      toast("select the text and copy it", true);
    }
  });
  return el("div", { class: "copy" }, el("code", {}, text), button);
}

export function showError(target, err) {
  replace(target, el("div", { class: "error-box" }, err.message ?? String(err)));
}

export const stateColor = (() => {
  const styles = getComputedStyle(document.documentElement);
  const v = (name) => styles.getPropertyValue(name).trim();
  const table = {
    success: v("--success"), materialized: v("--success"), passed: v("--success"),
    failure: v("--failure"), failed: v("--failure"), upstream_failed: v("--failure"), error: v("--failure"),
    started: v("--running"), starting: v("--running"), running: v("--running"), in_progress: v("--running"),
    queued: v("--queued"), pending: v("--queued"),
    canceled: v("--canceled"), canceling: v("--canceled"),
    skipped: v("--skipped"), up_for_retry: v("--skipped"),
    missing: v("--missing"),
  };
  return (state) => table[state] ?? v("--missing");
})();

// Group colours: a fixed palette, in the order the server sorted the groups.
export const PALETTE = ["#4c6ef5", "#12b886", "#fab005", "#be4bdb", "#fd7e14", "#15aabf", "#82c91e", "#f06595", "#7950f2", "#40c057", "#228be6", "#e8590c"];

document.getElementById("logout")?.addEventListener("click", async () => {
  await fetch("/logout", { method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" });
  location.href = "/login";
});
