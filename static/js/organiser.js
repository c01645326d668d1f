// The organiser's console: the event's status, the lockstep stage, and every table at a glance.
import { $, connectLive, h, say } from "./live.js";

const STATUS_WORDS = { draft: "Draft: not started", live: "Live", closed: "Closed" };
const token = location.hash.slice(1);
const rows = new Map(); // table id -> its <tr>
let busy = false;

function fatal(message) {
  say($("fatal-message"), message);
  $("fatal").hidden = false;
  $("status").textContent = "Not connected";
  $("main").hidden = true;
}

const live = token ? connectLive({
  scope: "event",
  auth: { token },
  onSnapshot: () => { buildRows(); renderHead(); },
  onChange(c) {
    if (c.type === "event.status" || c.type === "stage.changed") renderHead();
    updateRow(c.table, true);
  },
  onFatal: (err) => { if (err.code !== "abuse" && err.code !== "kicked") fatal(err.message); },
}) : null;
if (!live) fatal("This link is missing its key (the part after #). Open the full organiser link again.");

function renderHead() {
  const { event } = live.state;
  const stages = event.template.stages;
  $("main").hidden = false;
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
  for (const id of ["start", "close", "reopen"]) $(id).disabled = busy;
  $("prev-stage").disabled = busy || !isLive || event.stage === 0;
  $("next-stage").disabled = busy || !isLive || event.stage >= stages.length - 1;
  $("console-hint").textContent =
    event.status === "draft" ? "Participants can open their tables now; they can post once you start the event." :
    event.status === "closed" ? "The event is closed: nothing more can be posted or moved." :
    event.stage >= stages.length - 1 ? "This is the last stage. Close the event when every table is done." : "";
  $("tables-caption").textContent = `Every table (${live.state.tables.size})`;
}

function cells(t) {
  const { event } = live.state;
  const stage = event.template.stages[t.stage];
  const total = Object.values(t.notes || {}).reduce((a, b) => a + b, 0);
  return [
    String(t.number),
    t.topic?.title || "No topic",
    `${t.stage + 1}${t.stage !== event.stage ? " (behind)" : ""}`,
    stage ? `${t.step + 1}. ${stage.steps[t.step]?.title || ""}` : "",
    String(t.notes?.[t.stage] || 0),
    String(total),
  ];
}

function buildRows() {
  rows.clear();
  const sorted = [...live.state.tables.values()].sort((a, b) => a.number - b.number);
  $("rows").replaceChildren(...sorted.map((t) => {
    const tr = h("tr", { "data-table": t.id }, cells(t).map((text, i) =>
      h(i === 0 ? "th" : "td", { scope: i === 0 ? "row" : null, class: i >= 4 ? "num" : null, text })));
    rows.set(t.id, tr);
    return tr;
  }));
}

function updateRow(id, flash) {
  const t = live.state.tables.get(id);
  const tr = rows.get(id);
  if (!t || !tr) return buildRows();
  cells(t).forEach((text, i) => { tr.children[i].textContent = text; });
  tr.classList.toggle("behind", t.stage !== live.state.event.stage);
  if (flash) {
    tr.classList.remove("changed");
    void tr.offsetWidth; // restart the highlight
    tr.classList.add("changed");
  }
}

async function act(name, payload) {
  if (busy) return;
  busy = true;
  const focused = document.activeElement;
  say($("console-error"), "");
  renderHead();
  const ack = await live.request(name, payload);
  busy = false;
  if (!ack.ok) {
    say($("console-error"), ack.error.message);
    if (ack.error.code === "stale") live.sync();
  }
  renderHead();
  // A button that was just used may now be hidden or disabled: keep keyboard focus in the actions.
  if (focused?.closest?.(".actions")) {
    const target = !focused.hidden && !focused.disabled ? focused
      : [...document.querySelectorAll(".actions button")].find((b) => !b.hidden && !b.disabled);
    target?.focus();
  }
}

$("start").addEventListener("click", () => act("event.status", { action: "start" }));
$("reopen").addEventListener("click", () => act("event.status", { action: "reopen" }));
$("close").addEventListener("click", () => {
  if (confirm("Close the event? Nobody will be able to post notes or move a stage until you reopen it.")) {
    act("event.status", { action: "close" });
  }
});
$("prev-stage").addEventListener("click", () => act("stage.prev", { from: live.state.event.stage }));
$("next-stage").addEventListener("click", () => act("stage.next", { from: live.state.event.stage }));
