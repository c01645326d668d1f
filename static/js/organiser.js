// The organiser's console: sign in with a link, pick or create an event, set it up
// (console-setup.js), and run it live: every table at a glance, lockstep stages, the
// timer, a message to every screen, locks, the dashboard's spotlight, hidden notes.
//
// The overview is state, changed only by reduceOverview (overview-state.js); this page
// draws it and sends the organiser's intents.
import { $, dropFragment, h, say } from "./dom.js";
import { ago, mmss, plural, snippet, topicKey } from "./rules.js";
import { watchEvent } from "./event-view.js";
import { followThemes } from "./themes-console.js";
import { api, fragment, tokens } from "./console-api.js";
import { showSetup } from "./console-setup.js";

const STATUS_WORDS = { draft: "Draft: not started", live: "Live", closed: "Closed" };
const SILENT_MS = 5 * 60 * 1000; // no change at a table for this long: "silent"
const AGO_MS = 15000; // how often "2 min ago" is brought up to date

let live = null; // the event's socket, once an event is open
let current = null; // {id, setup} of the open event
let legacy = false; // a server without the console API: run the event from its link only
const rows = new Map(); // table id -> <tr>
const dirty = new Set();
let frame = 0;
let sideDue = false;
let headDue = false;
let minutesTouched = false;

function fatal(message) {
  say($("fatal-message"), message);
  $("fatal").hidden = false;
  $("loading").hidden = true;
  for (const id of ["main", "view-setup", "view-events"]) $(id).hidden = true;
  const st = $("status");
  st.textContent = "Not connected";
  st.dataset.state = "stopped";
}

function show(view) {
  $("loading").hidden = true;
  const was = $(view).hidden;
  for (const id of ["main", "view-setup", "view-events"]) $(id).hidden = id !== view;
  if (was) scrollTo(0, 0);
}

// --- signing in and finding the way -------------------------------------------------------

async function boot() {
  const hashToken = location.hash.slice(1);
  let session = null;
  if (hashToken) {
    const r = await api("POST", "/api/session", { token: hashToken });
    if (!r.ok && (r.status === 404 || r.status === 405) && !r.json) {
      // An older server with no console API: the link itself runs the event.
      legacy = true;
      return openLive(hashToken);
    }
    // The token has done its job: keep it out of the address bar (and of screenshots).
    dropFragment();
    if (!r.ok) return fatal(r.error.message);
    session = r.data;
    // An organiser link signs in to one event: keep its token for that event's socket.
    if (!session.admin && session.events.length === 1) tokens.set(session.events[0], hashToken);
  } else {
    const r = await api("GET", "/api/session");
    if (!r.ok) {
      return fatal(r.status === 401
        ? "This console needs your organiser link. Open the full link you were given (the part after # is the key)."
        : r.error.message);
    }
    session = r.data;
  }
  route(session);
}

function params() {
  return new URLSearchParams(location.search);
}

function route(session) {
  const p = params();
  const eventId = p.get("event") || (!session.admin && session.events.length === 1 && !p.has("events") ? session.events[0] : null);
  if (eventId) return openEvent(eventId, p.get("view"));
  return showEvents(session);
}

addEventListener("popstate", () => {
  const p = params();
  if (current && p.get("event") === current.id) return openView(p.get("view"));
  location.reload();
});

function eventUrl(id, view) {
  const q = new URLSearchParams({ event: id });
  if (view) q.set("view", view);
  return `/console?${q}`;
}

// --- every event, and a new one --------------------------------------------------------------

async function showEvents(session) {
  show("view-events");
  $("status").textContent = session.admin ? "Admin" : "Organiser";
  $("status").dataset.state = "connected";
  document.title = "Events — Plenary console";
  const r = await api("GET", "/api/events");
  if (!r.ok) return fatal(r.error.message);
  const list = r.data;
  $("events-rows").replaceChildren(...list.map((e) => h("tr", {},
    h("th", { scope: "row" }, h("a", { href: eventUrl(e.id), text: e.title })),
    h("td", { text: e.date || "—" }),
    h("td", { text: e.venue || "—" }),
    h("td", {}, h("span", { class: "badge", "data-status": e.status, text: STATUS_WORDS[e.status] || e.status })),
    h("td", { class: "num", text: String(e.tables) }))));
  $("events-empty").hidden = list.length > 0;
  $("events").hidden = list.length === 0;
  $("create-panel").hidden = !session.admin;
  if (session.admin) await prepareCreate();
}

let templates = [];

async function prepareCreate() {
  const r = await api("GET", "/api/templates");
  if (!r.ok) return say($("create-error"), r.error.message);
  templates = r.data;
  const sel = $("c-template");
  sel.replaceChildren(...templates.map((t) => h("option", { value: t.name, text: `${t.title} (${t.name})` })));
  const about = () => {
    const t = templates.find((x) => x.name === sel.value);
    say($("c-template-about"), t ? `${plural(t.stages.length, "stage")}: ${t.stages.join(" → ")}` : "");
    $("c-topic-count").textContent = t ? `(${plural(t.topics, "topic")})` : "";
  };
  sel.addEventListener("change", about);
  about();
  for (const radio of document.querySelectorAll("input[name='topics']")) {
    radio.addEventListener("change", () => {
      const how = document.querySelector("input[name='topics']:checked").value;
      $("c-topic-list").hidden = how !== "own";
      $("c-csv-box").hidden = how !== "csv";
      if (how === "own") $("c-topic-list").focus();
    });
  }
}

$("create").addEventListener("submit", async (e) => {
  e.preventDefault();
  const err = $("create-error");
  say(err, "");
  const title = $("c-title").value.trim();
  const tables = Number($("c-tables").value);
  if (!title) { say(err, "Give the event a title."); $("c-title").focus(); return; }
  if (!Number.isInteger(tables) || tables < 1 || tables > 1000) {
    say(err, "The number of tables is a whole number from 1 to 1000."); $("c-tables").focus(); return;
  }
  const body = { title, date: $("c-date").value || null, venue: $("c-venue").value.trim(), template: $("c-template").value, tables };
  const how = document.querySelector("input[name='topics']:checked").value;
  let csv = null;
  if (how === "own") {
    const lines = $("c-topic-list").value.split("\n").map((x) => x.trim()).filter(Boolean);
    if (!lines.length) { say(err, "Write at least one topic, one per line, or use the template's."); $("c-topic-list").focus(); return; }
    body.topics = lines.map((t) => ({ title: t.slice(0, 120), brief: "" }));
  } else if (how === "csv") {
    const file = $("c-csv").files?.[0];
    if (!file) { say(err, "Choose the CSV file of topics."); $("c-csv").focus(); return; }
    if (file.size > 500 * 1024) { say(err, "That file is too large for a list of topics (over 500 kB)."); return; }
    csv = { name: file.name, text: await file.text() };
    // The tables need topics: create the event empty, import, then add the tables.
    Object.assign(body, { topics: [], tables: 0 });
  }
  $("c-submit").disabled = true;
  let r = await api("POST", "/api/events", body);
  let problem = null;
  if (r.ok && csv) {
    const path = `/api/events/${encodeURIComponent(r.data.event.id)}`;
    const imported = await api("POST", `${path}/topics/import`, csv.text, "text/csv");
    if (!imported.ok) problem = `The event was created, but ${csv.name} was not imported: ${imported.error.message}`;
    else {
      const added = await api("POST", `${path}/tables`, { count: tables });
      if (!added.ok) problem = `The event and its topics were created, but not its tables: ${added.error.message}`;
      r = added.ok ? added : imported;
    }
  }
  $("c-submit").disabled = false;
  if (!r.ok) { say(err, r.error.message); return; }
  const setup = r.data;
  const tok = fragment(setup.links?.organiser_url);
  if (tok) tokens.set(setup.event.id, tok);
  history.pushState(null, "", eventUrl(setup.event.id, "setup"));
  current = null;
  await openEvent(setup.event.id, "setup", setup);
  if (problem) say($("s-error"), problem);
});

// --- one event ------------------------------------------------------------------------------

async function openEvent(id, view, setup) {
  if (!setup) {
    const r = await api("GET", `/api/events/${encodeURIComponent(id)}`);
    if (!r.ok) return fatal(r.status === 404 ? "There is no such event (or it was deleted)." : r.error.message);
    setup = r.data;
  }
  current = { id, setup };
  const link = fragment(setup.links?.organiser_url);
  const token = tokens.get(id) || link;
  if (link && link !== tokens.get(id)) tokens.set(id, link); // a regenerated link replaces the old one
  $("nav").hidden = false;
  $("nav-setup").href = eventUrl(id, "setup");
  $("nav-live").href = eventUrl(id, "live");
  // Downloads ride on the console's session cookie: plain links, one click each.
  for (const a of document.querySelectorAll("#exports a[data-format]")) {
    a.href = `/api/events/${encodeURIComponent(id)}/export.${a.dataset.format}`;
  }
  if (!live && token) connect(token);
  openView(view || (setup.event.status === "draft" ? "setup" : "live"));
}

for (const a of [$("nav-setup"), $("nav-live")]) {
  a.addEventListener("click", (e) => {
    if (!current || e.ctrlKey || e.metaKey || e.shiftKey) return; // a new tab: let it go
    e.preventDefault();
    history.pushState(null, "", a.href);
    openView(new URL(a.href).searchParams.get("view"));
  });
}

function openView(view) {
  $("nav-setup").toggleAttribute("aria-current", view === "setup");
  $("nav-live").toggleAttribute("aria-current", view !== "setup");
  if (view === "setup") {
    show("view-setup");
    showSetup(current.setup, {
      live,
      onChanged: (setup) => { current.setup = setup; },
      onStarted: () => { history.pushState(null, "", eventUrl(current.id, "live")); openView("live"); },
    });
    document.title = `${current.setup.event.title} — set-up`;
  } else {
    show("main");
    if (live?.state.loaded) { renderAll(); }
  }
}

function openLive(token) {
  connect(token);
  show("main");
}

function connect(token) {
  live = watchEvent({
    auth: { token },
    onAction(state, a) {
      // The themes panel follows the event's stage and spotlight (themes-console.js).
      if (state.event) followThemes(state.event);
      if (a.type === "snapshot") {
        if (!$("main").hidden || legacy) show("main");
        return renderAll();
      }
      if (a.type === "change") {
        const c = a.change;
        // 500 tables send 500 stage changes: draw once, on the next frame.
        if (c.type === "event.status" || c.type === "stage.changed") headDue = true;
        dirty.add(c.table);
        sideDue = true;
        schedule();
      } else if (a.type === "event") {
        if (!state.loaded) return;
        renderHead();
        renderControls();
      } else if (a.type === "presence") {
        // Every changed table's count in one message (or one table's, from older servers).
        const p = a.presence || {};
        for (const id of p.tables ? Object.keys(p.tables) : p.table ? [p.table] : []) dirty.add(id);
        schedule();
      }
    },
    onFatal: (err) => { if (err.code !== "abuse" && err.code !== "kicked") fatal(err.message); },
  });
}

function schedule() {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    if (!live.state.loaded) return;
    if (headDue) {
      headDue = false;
      if (!minutesTouched) setDefaultMinutes();
      renderHead();
      renderControls();
    }
    if (dirty.size) {
      const needAll = [...dirty].some((id) => !rows.has(id));
      if (needAll) buildRows();
      else {
        // A table's step moved: others may now be "behind" it, so refresh them all (cheap).
        for (const [id, tr] of rows) fillRow(live.state.tables[id], tr, dirty.has(id));
      }
      dirty.clear();
      renderGlance();
    }
    if (sideDue) throttledSide();
  });
}

let sideTimer = 0;
let sideAt = 0;
function throttledSide() {
  sideDue = false;
  const wait = sideAt + 800 - Date.now();
  if (wait <= 0) { sideAt = Date.now(); renderSide(); return; }
  if (!sideTimer) sideTimer = setTimeout(() => { sideTimer = 0; sideAt = Date.now(); renderSide(); }, wait);
}

function renderAll() {
  renderHead();
  renderControls();
  if (!minutesTouched) setDefaultMinutes();
  buildRows();
  renderGlance();
  renderSide();
}

// --- the head and the controls ------------------------------------------------------------------

function renderHead() {
  const { event } = live.state;
  const stages = event.template.stages;
  document.title = `${event.title} — organiser console`;
  $("event-title").textContent = event.title;
  say($("event-meta"), [event.venue, event.date].filter(Boolean).join(" · "));
  const badge = $("event-status");
  badge.textContent = STATUS_WORDS[event.status] || event.status;
  badge.dataset.status = event.status;
  $("stage-count").textContent = `Stage ${event.stage + 1} of ${stages.length}`;
  $("stage-title").textContent = stages[event.stage]?.title || "";
  const isLive = event.status === "live";
  $("start").hidden = event.status !== "draft";
  $("close").hidden = !isLive;
  $("reopen").hidden = event.status !== "closed";
  $("prev-stage").disabled = !isLive || event.stage === 0;
  $("next-stage").disabled = !isLive || event.stage >= stages.length - 1;
  $("console-hint").textContent =
    event.status === "draft" ? "Participants can open their tables now; they can post once you start the event." :
    event.status === "closed" ? "The event is closed: nothing more can be posted or moved." :
    event.stage >= stages.length - 1 ? "This is the last stage. Close the event when every table is done." : "";
  if (current) current.setup.event.status = event.status;
}

/** The minutes the timer form offers: a running timer's (rounded up), else the stage's. */
function setDefaultMinutes() {
  const { event } = live.state;
  const ms = live.remaining();
  const d = ms != null && ms > 0 ? Math.ceil(ms / 60000) : event.template.stages[event.stage]?.duration_minutes;
  $("timer-minutes").value = String(d || 10);
}
$("timer-minutes").addEventListener("input", () => { minutesTouched = true; });

function renderControls() {
  const { event } = live.state;
  const isLive = event.status === "live";
  const tm = event.timer || { state: "stopped" };
  const st = tm.state || "stopped";
  $("timer-go").textContent = st === "stopped" ? "Start" : "Restart";
  $("timer-go").disabled = !isLive;
  $("timer-pause").disabled = !isLive || st !== "running";
  $("timer-resume").disabled = !isLive || st !== "paused";
  $("timer-1").disabled = $("timer-5").disabled = !isLive || st === "stopped";
  $("timer-stop").disabled = !isLive || st === "stopped";
  tickTimer();
  $("message-now").textContent = event.message ? `“${event.message}”` : "nothing";
  $("message-clear").disabled = !event.message;
  // Two flags, as on the server: every board at once, and tables locked on their own
  // (which "Unlock all" leaves locked: each has its own Unlock in the table).
  const own = lockedCount();
  $("lock-now").textContent = event.locked ? `every board is locked${own ? ` (and ${plural(own, "table")} on its own)` : ""}`
    : own ? `${plural(own, "table")} locked on its own` : "open";
  $("lock-all").disabled = !!event.locked;
  $("unlock-all").disabled = !event.locked;
  $("spot-now").textContent = spotlightWords(event.spotlight);
  $("spot-clear").disabled = !event.spotlight;
  fillTopicPicker();
  for (const [id, tr] of rows) fillRow(live.state.tables[id], tr, false);
  renderGlance();
}

/** Tables locked on their own (whatever the event-wide lock says). */
const lockedCount = () => live.tables().filter((t) => t.locked).length;

function spotlightWords(sp) {
  if (!sp) return "every table";
  const { state } = live;
  if (sp.kind === "table") {
    const t = state.tables[sp.id];
    return t ? `Table ${t.number}` : "a table";
  }
  if (sp.kind === "topic") {
    const topic = topics().find(([id]) => String(id) === String(sp.id));
    return topic ? `Topic: ${topic[1]}` : "a topic";
  }
  const n = state.notes[sp.id];
  return n ? `Note: “${snippet(n.text)}”` : "a note";
}

/** [id, title] of every topic: from the set-up (the API), else from the tables. */
function topics() {
  if (current?.setup?.topics) return current.setup.topics.map((t) => [t.id, t.title]);
  const out = new Map();
  for (const t of sortedTables()) if (t.topic && !out.has(topicKey(t))) out.set(topicKey(t), t.topic.title);
  return [...out];
}

function fillTopicPicker() {
  const sel = $("spot-topic");
  const list = topics();
  const key = list.map(([id, title]) => `${id}:${title}`).join("|");
  if (sel.dataset.key === key) return;
  sel.dataset.key = key;
  sel.replaceChildren(...list.map(([id, title]) => h("option", { value: String(id), text: title })));
  $("spot-topic-go").disabled = list.length === 0;
}

function tickTimer() {
  if (!live?.state.loaded) return;
  const ms = live.remaining();
  const tm = live.state.event.timer;
  $("timer-value").textContent = ms == null ? "--:--" : mmss(ms);
  $("timer-state").textContent = ms == null ? "Not running" : tm.state === "paused" ? "Paused" : ms <= 0 ? "Time is up" : "left";
  $("timer-value").dataset.state = ms == null ? "stopped" : tm.state === "paused" ? "paused" : ms <= 0 ? "up" : "running";
}
setInterval(tickTimer, 250);

/** Send one control; show a refusal; take the event the ack carries. */
async function act(name, payload, button) {
  say($("console-error"), "");
  if (button) button.disabled = true;
  const ack = await live.request(name, payload);
  if (button) button.disabled = false;
  if (!ack.ok) {
    say($("console-error"), ack.error.message);
    if (ack.error.code === "stale") live.sync();
  } else if (ack.event) live.takeEvent(ack.event);
  renderHead();
  renderControls();
  return ack;
}

$("start").addEventListener("click", (e) => act("event.status", { action: "start" }, e.currentTarget));
$("reopen").addEventListener("click", (e) => {
  if (confirm("Reopen the event? Participants will be able to post again.")) act("event.status", { action: "reopen" }, e.currentTarget);
});
$("close").addEventListener("click", (e) => {
  if (confirm("Close the event? Nobody will be able to post notes or move a stage until you reopen it.")) {
    act("event.status", { action: "close" }, e.currentTarget);
  }
});
$("prev-stage").addEventListener("click", (e) => act("stage.prev", { from: live.state.event.stage }, e.currentTarget));
$("next-stage").addEventListener("click", (e) => act("stage.next", { from: live.state.event.stage }, e.currentTarget));

$("timer-start").addEventListener("submit", (e) => {
  e.preventDefault();
  const min = Number($("timer-minutes").value);
  if (!(min > 0 && min <= 480)) { say($("console-error"), "The timer takes 1 to 480 minutes."); return; }
  act("timer.set", { action: "start", seconds: Math.round(min * 60) }, $("timer-go"));
});
$("timer-pause").addEventListener("click", (e) => act("timer.set", { action: "pause" }, e.currentTarget));
$("timer-resume").addEventListener("click", (e) => act("timer.set", { action: "resume" }, e.currentTarget));
$("timer-1").addEventListener("click", (e) => act("timer.set", { action: "extend", seconds: 60 }, e.currentTarget));
$("timer-5").addEventListener("click", (e) => act("timer.set", { action: "extend", seconds: 300 }, e.currentTarget));
$("timer-stop").addEventListener("click", (e) => act("timer.set", { action: "stop" }, e.currentTarget));

$("message-text").addEventListener("input", () => {
  const n = $("message-text").value.length;
  $("message-count").textContent = `${n} of 140`;
});
$("message-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("message-text").value.trim();
  if (!text) { say($("console-error"), "Write the message first (up to 140 characters)."); $("message-text").focus(); return; }
  const ack = await act("message.set", { text }, $("message-send"));
  if (ack.ok) { $("message-text").value = ""; $("message-count").textContent = "0 of 140"; }
});
$("message-clear").addEventListener("click", (e) => act("message.set", { text: null }, e.currentTarget));
// The server's answer (and event.updated) carries the event's lock: nothing else to change here.
$("lock-all").addEventListener("click", (e) => act("board.lock", { locked: true }, e.currentTarget));
$("unlock-all").addEventListener("click", (e) => act("board.lock", { locked: false }, e.currentTarget));
$("spot-topic-go").addEventListener("click", (e) => {
  const v = $("spot-topic").value;
  const id = /^\d+$/.test(v) ? Number(v) : v;
  act("spotlight.set", { kind: "topic", id }, e.currentTarget);
});
$("spot-clear").addEventListener("click", (e) => act("spotlight.set", { kind: null }, e.currentTarget));

// --- every table ---------------------------------------------------------------------------------

function sortedTables() {
  return live.tables().sort((a, b) => a.number - b.number);
}

/** What "behind" means, worked out once per redraw: the tables not ready yet. */
function pace() {
  return { notReady: live.tables().filter((t) => !t.ready).length, total: live.tables().length };
}

/** Behind only when it matters: still writing when the stage's time is up, or the last
 *  table not ready while every other one is. Being on an earlier step is not behind: a
 *  table may take its time over a step, and an empty table has nothing to catch up on. */
function isBehind(t, p) {
  const { event } = live.state;
  if (event.status !== "live" || t.ready) return false;
  const ms = live.remaining();
  const kind = event.template.stages[t.stage]?.steps[t.step]?.kind;
  if (ms != null && ms <= 0 && event.timer?.state === "running" && kind === "write") return true;
  return p.total > 1 && p.notReady === 1;
}

function flags(t, p) {
  const { event } = live.state;
  const now = live.now();
  const out = [];
  if (isBehind(t, p)) out.push(["behind", "Behind"]);
  if (t.ready) out.push(["done", "Done"]);
  if (event.status === "live" && (t.last_activity == null || now - t.last_activity > SILENT_MS)) out.push(["silent", "Silent"]);
  if (live.locked(t)) out.push(["locked", "Locked"]);
  return out;
}

function buildRows() {
  rows.clear();
  const list = sortedTables();
  // Each cell carries its column's name: below laptop width a row is drawn as a card.
  const labels = [...document.querySelectorAll("#tables thead th")].map((th) => th.textContent.trim());
  $("rows").replaceChildren(...list.map((t) => {
    const tr = h("tr", { "data-table": t.id },
      h("th", { scope: "row", class: "num", "data-label": labels[0] }),
      ...Array.from({ length: 9 }, (_, i) => h("td", { class: [3, 4, 5].includes(i) ? "num" : null, "data-label": labels[i + 1] })),
      h("td", { class: "row-actions" },
        h("button", { type: "button", class: "small", "data-action": "lock" }),
        h("button", { type: "button", class: "small", "data-action": "spot" }, "Spotlight")));
    rows.set(t.id, tr);
    return tr;
  }));
  const p = pace();
  for (const t of list) fillRow(t, rows.get(t.id), false, p);
  $("tables-caption").textContent = `Every table (${list.length})`;
  applyFilter();
}

function fillRow(t, tr, flash, p = pace()) {
  if (!t || !tr) return;
  const { event, presence } = live.state;
  const stage = event.template.stages[t.stage];
  const c = tr.children;
  const set = (i, text) => { if (c[i].textContent !== text) c[i].textContent = text; };
  set(0, String(t.number));
  set(1, t.topic?.title || "No topic");
  set(2, `${t.stage + 1}`);
  set(3, stage ? `${t.step + 1} of ${stage.steps.length} · ${stage.steps[t.step]?.title || ""}` : "");
  set(4, String(presence?.[t.id] ?? 0));
  set(5, String(t.notes?.[t.stage] || 0));
  set(6, String(t.votes?.[t.stage] || 0));
  if (c[7].dataset.ready !== String(!!t.ready)) {
    c[7].dataset.ready = String(!!t.ready);
    c[7].replaceChildren(t.ready ? h("span", { class: "ready-flag" }, h("span", { class: "check-icon", "aria-hidden": "true", text: "✓" }), " Ready") : h("span", { class: "muted", text: "Not yet" }));
  }
  set(8, t.last_activity == null ? "No activity yet" : ago(live.now() - t.last_activity));
  const f = flags(t, p);
  const key = f.map((x) => x[0]).join(" ");
  if (c[9].dataset.flags !== key) {
    c[9].dataset.flags = key;
    c[9].replaceChildren(...(f.length ? f.map(([k, label]) => h("span", { class: `flag flag-${k}`, text: label }))
      : [h("span", { class: "flag flag-ok", text: "On track" })]));
  }
  for (const [k] of [["behind"], ["done"], ["silent"]]) tr.classList.toggle(k, f.some((x) => x[0] === k));
  tr.dataset.flags = key;
  const lockBtn = c[10].children[0];
  const locked = !!t.locked;
  lockBtn.textContent = locked ? "Unlock" : "Lock";
  lockBtn.setAttribute("aria-label", `${locked ? "Unlock" : "Lock"} table ${t.number}`);
  lockBtn.disabled = !!event.locked && !locked;
  c[10].children[1].setAttribute("aria-label", `Spotlight table ${t.number} on the dashboard`);
  if (flash) {
    tr.classList.remove("changed");
    void tr.offsetWidth; // restart the highlight
    tr.classList.add("changed");
  }
}

function renderGlance() {
  if (!live?.state.loaded) return;
  let behind = 0;
  let ready = 0;
  let silent = 0;
  const p = pace();
  for (const t of live.tables()) {
    const f = flags(t, p).map((x) => x[0]);
    if (f.includes("behind")) behind++;
    if (f.includes("done")) ready++;
    if (f.includes("silent")) silent++;
  }
  const n = live.tables().length;
  const text = `${plural(n, "table")} · ${behind} behind · ${ready} ready · ${silent} silent`;
  if ($("counts").textContent !== text) $("counts").textContent = text;
  const g = `${ready} of ${n} tables ready for the next stage`;
  if ($("glance").textContent !== g) $("glance").textContent = g;
}

function applyFilter() {
  const f = $("filter").value;
  for (const tr of rows.values()) {
    const fl = (tr.dataset.flags || "").split(" ");
    tr.hidden = f === "all" ? false
      : f === "behind" ? !fl.includes("behind")
      : f === "silent" ? !fl.includes("silent")
      : f === "ready" ? !fl.includes("done")
      : fl.includes("done");
  }
}
$("filter").addEventListener("change", applyFilter);

$("rows").addEventListener("click", async (e) => {
  const btn = e.target.closest("button[data-action]");
  if (!btn) return;
  const id = btn.closest("tr").dataset.table;
  const t = live.state.tables[id];
  if (!t) return;
  if (btn.dataset.action === "spot") act("spotlight.set", { kind: "table", id }, btn);
  else act("board.lock", { locked: !t.locked, table: id }, btn); // table.locked follows
});

// "2 min ago" and "silent" move with the clock, not only with changes.
setInterval(() => {
  if (!live?.state.loaded || $("main").hidden) return;
  const p = pace();
  for (const [id, tr] of rows) fillRow(live.state.tables[id], tr, false, p);
  renderGlance();
  applyFilter();
}, AGO_MS);

// --- ideas and hidden notes ------------------------------------------------------------------------

function noteMeta(n) {
  const t = live.state.tables[n.table];
  const bits = [t ? `Table ${t.number}` : "A table"];
  if (n.starred) bits.push("★ starred");
  if (n.votes != null && n.votes > 0) bits.push(plural(n.votes, "vote"));
  if (n.author) bits.push(n.author);
  return bits.join(" · ");
}

function renderSide() {
  const { state } = live;
  const stage = state.event.stage;
  const pub = [];
  for (const n of Object.values(state.notes)) {
    const t = state.tables[n.table];
    if (t && n.stage === t.stage && n.stage === stage && !n.hidden && !n.private) pub.push(n);
  }
  const top = pub.filter((n) => n.starred || (n.votes || 0) > 0)
    .sort((a, b) => (b.starred - a.starred) || ((b.votes || 0) - (a.votes || 0)) || (b.at - a.at)).slice(0, 8);
  const picked = new Set(top.map((n) => n.id));
  const latest = pub.filter((n) => !picked.has(n.id)).sort((a, b) => b.at - a.at).slice(0, 12 - top.length);
  const spot = state.event.spotlight;
  $("ideas").replaceChildren(...[...top, ...latest].map((n) => h("li", { class: `idea-item${n.starred ? " starred" : ""}` },
    h("p", { class: "idea-text", dir: "auto", text: n.text }),
    h("p", { class: "idea-meta", text: noteMeta(n) }),
    h("div", { class: "idea-buttons" },
      // Each name says which note: four notes from one table must not share "Spotlight".
      h("button", { type: "button", class: "small", "data-note": n.id,
        "aria-label": `Spotlight “${snippet(n.text, 40)}” (${noteMeta(n).split(" · ")[0]})`,
        "aria-pressed": spot?.kind === "note" && spot.id === n.id ? "true" : "false" }, "Spotlight"),
      h("button", { type: "button", class: "small", "data-hide": n.id, "data-table": n.table,
        "aria-label": `Hide “${snippet(n.text, 40)}” (${noteMeta(n).split(" · ")[0]})` }, "Hide")))));
  $("ideas-empty").hidden = pub.length > 0;
  const hidden = Object.values(state.hidden).filter((n) => n.hidden !== false);
  $("hidden-notes").replaceChildren(...hidden.slice(0, 50).map((n) => h("li", { class: "idea-item hidden-item" },
    h("p", { class: "idea-text", dir: "auto", text: n.text ?? "(a hidden note)" }),
    h("p", { class: "idea-meta", text: noteMeta(n) }),
    h("button", { type: "button", class: "small", "data-show": n.id, "data-table": n.table,
      "aria-label": `Show again: “${snippet(n.text ?? "a hidden note", 40)}” (${noteMeta(n).split(" · ")[0]})` }, "Show again"))));
  $("hidden-empty").hidden = hidden.length > 0;
}

$("ideas").addEventListener("click", async (e) => {
  const btn = e.target.closest("button[data-note], button[data-hide]");
  if (!btn) return;
  if (btn.dataset.note) {
    await act("spotlight.set", { kind: "note", id: btn.dataset.note }, btn);
  } else if (confirm("Hide this note? It leaves every participant's board and the dashboard; you can show it again.")) {
    // The change that follows (note.hidden) moves it to the hidden list.
    await act("note.hide", { id: btn.dataset.hide, hidden: true, table: btn.dataset.table }, btn);
  }
  renderSide();
});
$("hidden-notes").addEventListener("click", async (e) => {
  const btn = e.target.closest("button[data-show]");
  if (!btn) return;
  await act("note.hide", { id: btn.dataset.show, hidden: false, table: btn.dataset.table }, btn);
  renderSide();
});

boot();
