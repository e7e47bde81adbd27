/**
 * The environments page (<prefix>/): list, create and edit environments, watch a
 * build's log live and pick the active build. Plain HTML and a small script that
 * calls the REST API with the browser's session; no build step.
 *
 * Must stay true: text from the API is only ever inserted as text (no innerHTML),
 * and the script runs under a CSP nonce; changes send the session's CSRF token.
 */
const SCRIPT = `
const csrf = document.querySelector('meta[name="csrf"]').content;
const $ = (id) => document.getElementById(id);
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v !== false && v !== undefined && v !== null) el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined) el.append(kid instanceof Node ? kid : String(kid));
  return el;
}
async function api(path, opts = {}) {
  const res = await fetch("api/v1/" + path, {
    method: opts.method || "GET",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    credentials: "same-origin",
  });
  if (opts.text) return { res, text: await res.text() };
  const json = await res.json().catch(() => ({ status: "error", message: res.statusText }));
  if (!res.ok) throw new Error(json.message || res.statusText);
  return json;
}
function say(text, bad) {
  const el = $("message");
  el.textContent = text;
  el.className = bad ? "bad" : "good";
}
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");
const mb = (n) => (n ? (n / 1e6).toFixed(0) + " MB" : "");
let namespaces = [];
let selected = null;
let watching = null;

async function loadList() {
  const envs = (await api("environment/?size=1000")).data;
  const rows = envs.map((e) => {
    const latest = e.latest_build;
    return h("tr", {},
      h("td", {}, e.namespace.name),
      h("td", {}, h("a", { href: "#", onclick: (ev) => { ev.preventDefault(); openEnv(e.namespace.name, e.name); } }, e.name)),
      h("td", { class: "status " + (latest ? latest.status : "") }, latest ? latest.status : ""),
      h("td", {}, e.current_build_id ?? "none"),
      h("td", {}, h("code", {}, e.kernel)));
  });
  $("envs").replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 5 }, "No environments yet."))]));
}

async function loadNamespaces() {
  namespaces = (await api("namespace/?size=1000")).data;
  const editable = namespaces.filter((n) => n.can_edit);
  $("ns").replaceChildren(...editable.map((n) => h("option", { value: n.name }, n.name + " (" + n.kind + ")")));
}

async function create(ev) {
  ev.preventDefault();
  try {
    const r = await api("specification/", {
      method: "POST",
      body: { namespace: $("ns").value, environment_name: $("name").value, specification: $("spec").value },
    });
    say("Build " + r.data.build_id + " queued.");
    await loadList();
    await openEnv($("ns").value, $("name").value, r.data.build_id);
  } catch (e) {
    say(e.message, true);
  }
}

async function openEnv(ns, name, logBuild) {
  const env = (await api("environment/" + encodeURIComponent(ns) + "/" + encodeURIComponent(name) + "/")).data;
  const builds = (await api("build/?size=1000&environment_id=" + env.id)).data.reverse();
  selected = env;
  const canEdit = (namespaces.find((n) => n.name === ns) || {}).can_edit;
  const latest = env.latest_build;
  const editor = h("textarea", { id: "edit", rows: 10, readonly: !canEdit }, latest ? latest.specification.spec : "");
  const rows = builds.map((b) => h("tr", {},
    h("td", {}, b.id),
    h("td", { class: "status " + b.status }, b.status + (b.current ? " (current)" : "")),
    h("td", {}, when(b.started_on || b.scheduled_on)),
    h("td", {}, mb(b.size)),
    h("td", {}, b.status_info || ""),
    h("td", {},
      h("button", { onclick: () => watch(b.id) }, "Log"), " ",
      b.status === "COMPLETED" ? h("a", { href: "api/v1/build/" + b.id + "/lockfile/", target: "_blank" }, "Lockfile") : null, " ",
      canEdit && b.status === "COMPLETED" && !b.current ? h("button", { onclick: () => activate(ns, name, b.id) }, "Make current") : null,
      canEdit && (b.status === "QUEUED" || b.status === "BUILDING") ? h("button", { onclick: () => cancel(b.id) }, "Cancel") : null)));
  $("detail").replaceChildren(
    h("h2", {}, ns + "/" + name),
    h("p", {}, "Kernel ", h("code", {}, env.kernel), " · Dask worker environment ", h("code", {}, env.dask_environment)),
    editor,
    canEdit ? h("p", {}, h("button", { onclick: () => rebuild(ns, name) }, "Build this specification"), " ",
      h("button", { class: "danger", onclick: () => remove(ns, name) }, "Delete environment")) : h("p", {}, "You may use this environment but not change it."),
    h("table", {}, h("thead", {}, h("tr", {}, ["Build", "Status", "Started", "Size", "Info", ""].map((t) => h("th", {}, t)))), h("tbody", {}, rows)));
  const show = logBuild || (latest && latest.id);
  if (show) watch(show);
}

async function rebuild(ns, name) {
  try {
    const r = await api("specification/", { method: "POST", body: { namespace: ns, environment_name: name, specification: $("edit").value } });
    say("Build " + r.data.build_id + " queued.");
    await openEnv(ns, name, r.data.build_id);
  } catch (e) { say(e.message, true); }
}
async function activate(ns, name, id) {
  try {
    await api("environment/" + encodeURIComponent(ns) + "/" + encodeURIComponent(name) + "/", { method: "PUT", body: { build_id: id } });
    say("Build " + id + " is now current.");
    await openEnv(ns, name);
    await loadList();
  } catch (e) { say(e.message, true); }
}
async function cancel(id) {
  try { await api("build/" + id + "/cancel/", { method: "PUT" }); say("Build " + id + " canceled."); } catch (e) { say(e.message, true); }
}
async function remove(ns, name) {
  if (!confirm("Delete " + ns + "/" + name + " and all its builds?")) return;
  try {
    await api("environment/" + encodeURIComponent(ns) + "/" + encodeURIComponent(name) + "/", { method: "DELETE" });
    $("detail").replaceChildren();
    say(ns + "/" + name + " deleted.");
    await loadList();
  } catch (e) { say(e.message, true); }
}

async function watch(id) {
  if (watching) clearTimeout(watching.timer);
  const state = { id, offset: 0, timer: null };
  watching = state;
  $("logtitle").textContent = "Log of build " + id;
  $("log").textContent = "";
  const tick = async () => {
    if (watching !== state) return;
    const { res, text } = await api("build/" + id + "/logs/?offset=" + state.offset, { text: true });
    if (!res.ok) { $("log").textContent = text; return; }
    $("log").append(text);
    state.offset = Number(res.headers.get("X-Log-Size")) || state.offset;
    const status = res.headers.get("X-Build-Status");
    $("logtitle").textContent = "Log of build " + id + " (" + status + ")";
    if (text) $("log").scrollTop = $("log").scrollHeight;
    if (status === "QUEUED" || status === "BUILDING") state.timer = setTimeout(tick, 1000);
    else if (selected) { await loadList(); }
  };
  tick();
}

$("create").addEventListener("submit", create);
loadNamespaces().then(loadList).catch((e) => say(e.message, true));
setInterval(() => loadList().catch(() => {}), 10000);
`;

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1em 2em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.5em; }
table { border-collapse: collapse; width: 100%; margin: .5em 0; }
td, th { border-bottom: 1px solid #ddd; padding: .3em .5em; text-align: left; vertical-align: top; }
textarea { width: 100%; font-family: monospace; }
pre#log { background: #111; color: #ddd; padding: .8em; max-height: 28em; overflow: auto; white-space: pre-wrap; }
.status.COMPLETED { color: #070; } .status.FAILED, .status.CANCELED { color: #b00; } .status.BUILDING, .status.QUEUED { color: #a60; }
#message.bad { color: #b00; } #message.good { color: #070; }
button.danger { color: #b00; }
form label { display: block; margin: .4em 0; }
`;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderPage(opts: { user: string; csrf: string; nonce: string; hubPrefix: string }): string {
  const example = "name: my-env\\ndependencies:\\n  - python=3\\n  - numpy\\n  - pip:\\n    - humanize";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="csrf" content="${escapeHtml(opts.csrf)}">
<title>Environments</title>
<style nonce="${opts.nonce}">${STYLE}</style>
</head>
<body>
<p><a href="${escapeHtml(opts.hubPrefix)}/home">Hub home</a> · logged in as ${escapeHtml(opts.user)}</p>
<h1>Environments</h1>
<p>Each environment becomes a Jupyter kernel for everyone who may use it, and a worker environment for Dask.
Packages come from PyPI; conda-only packages are not supported.</p>
<p id="message"></p>
<table><thead><tr><th>Namespace</th><th>Name</th><th>Latest build</th><th>Current build</th><th>Kernel</th></tr></thead>
<tbody id="envs"></tbody></table>
<h2>New environment</h2>
<form id="create">
<label>Namespace <select id="ns"></select></label>
<label>Name <input id="name" required pattern="[a-z0-9]([a-z0-9-]*[a-z0-9])?" placeholder="my-env"></label>
<label>Specification (environment.yaml or one requirement per line)
<textarea id="spec" rows="8" required placeholder="${example.replace(/\\n/g, "&#10;")}"></textarea></label>
<button type="submit">Create and build</button>
</form>
<div id="detail"></div>
<h2 id="logtitle">Log</h2>
<pre id="log"></pre>
<script nonce="${opts.nonce}">${SCRIPT}</script>
</body>
</html>
`;
}
