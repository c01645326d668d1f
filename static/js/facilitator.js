// The facilitator's page: run one table through the steps of each stage, and watch its notes.
import { $, clock, connectLive, h, isPrivate, plural, say } from "./live.js";

const STATUS_WORDS = { draft: "Not started yet", live: "Live", closed: "Closed" };
const token = location.hash.slice(1);
let busy = false;

function fatal(message) {
  say($("fatal-message"), message);
  $("fatal").hidden = false;
  $("status").textContent = "Not connected";
  $("main").hidden = true;
}

const live = token ? connectLive({
  scope: "table",
  auth: { token },
  onSnapshot: render,
  onChange: render,
  onFatal: (err) => { if (err.code !== "abuse" && err.code !== "kicked") fatal(err.message); },
}) : null;
if (!live) fatal("This link is missing its key (the part after #). Open the full facilitator link again.");

function render() {
  const { event, table, notes, loaded } = live.state;
  if (!loaded) return;
  $("main").hidden = false;
  const stages = event.template.stages;
  const stage = stages[table.stage];
  document.title = `Table ${table.number} (facilitator) — Plenary`;
  say($("event-title"), event.title);
  $("table-number").textContent = table.number;
  say($("topic"), table.topic?.title);
  const badge = $("event-status");
  badge.textContent = `Event: ${STATUS_WORDS[event.status] || event.status}`;
  badge.dataset.status = event.status;
  $("stage-count").textContent = `Stage ${table.stage + 1} of ${stages.length}`;
  $("stage-title").textContent = stage.title;
  say($("stage-prompt"), stage.prompt);
  $("steps").replaceChildren(...stage.steps.map((s, i) => h("li",
    { class: i === table.step ? "current" : i < table.step ? "done" : "", "aria-current": i === table.step ? "step" : null },
    h("span", { class: "step-label" }, h("span", { class: "step-name", text: s.title }),
      h("span", { class: "step-kind", text: kindWords(s) })),
    i === table.step ? h("span", { class: "now", text: "Now" }) : null)));
  say($("step-instructions"), stage.steps[table.step]?.instructions);
  const live_ = event.status === "live";
  const last = table.step >= stage.steps.length - 1;
  $("prev-step").disabled = busy || !live_ || table.step === 0;
  $("next-step").disabled = busy || !live_ || last;
  $("step-hint").textContent =
    event.status === "draft" ? "The steps can move once the organiser starts the event." :
    event.status === "closed" ? "The event has closed." :
    last ? "This is the last step of the stage. The organiser moves every table to the next stage." : "";
  renderNotes(event, table, notes);
}

function kindWords(step) {
  const k = { write: "writing", reveal: "reveal", discuss: "discussion", group: "grouping", vote: "voting", summarise: "summary" }[step.kind] || step.kind;
  return step.private ? `${k}, private` : k;
}

function noteItem(n, event, table) {
  const priv = isPrivate(event, table, n);
  return h("li", { class: `note${priv ? " private" : ""}`, dir: "auto" },
    h("p", { class: "note-text", text: n.text }),
    h("p", { class: "note-meta" }, n.author || "Anonymous", " · ",
      h("time", { datetime: new Date(n.at).toISOString(), text: clock(n.at) }),
      priv ? h("span", { class: "tag", text: "Private until revealed" }) : null));
}

function renderNotes(event, table, notes) {
  const stages = event.template.stages;
  const byStage = new Map();
  for (const n of notes.values()) {
    if (!byStage.has(n.stage)) byStage.set(n.stage, []);
    byStage.get(n.stage).push(n);
  }
  const order = [...byStage.keys()].sort((a, b) => (a === table.stage ? -1 : b === table.stage ? 1 : b - a));
  if (!byStage.has(table.stage)) order.unshift(table.stage);
  const newest = (a, b) => b.at - a.at || (a.id < b.id ? 1 : -1);
  const groups = order.map((s) => {
    const list = (byStage.get(s) || []).sort(newest);
    const stage = stages[s] || { title: "", categories: [] };
    const title = `Stage ${s + 1}: ${stage.title}${s === table.stage ? " (now)" : ""}`;
    const head = h("h3", {}, title, " ", h("span", { class: "count-pill", text: plural(list.length, "note") }));
    const cats = stage.categories || [];
    let body;
    if (!list.length) body = h("p", { class: "muted", text: "No notes in this stage yet." });
    else if (!cats.length) body = h("ul", { class: "notes" }, list.map((n) => noteItem(n, event, table)));
    else {
      const sections = [...cats, { id: null, label: "No category" }].map((c) => {
        const inCat = list.filter((n) => (n.category ?? null) === c.id || (c.id === null && !cats.some((k) => k.id === n.category)));
        if (!inCat.length && c.id === null) return null;
        return h("section", { class: "category" },
          h("h4", {}, c.label, " ", h("span", { class: "count-pill", text: String(inCat.length) })),
          inCat.length ? h("ul", { class: "notes" }, inCat.map((n) => noteItem(n, event, table))) : h("p", { class: "muted", text: "None yet." }));
      });
      body = h("div", { class: "categories" }, sections);
    }
    return h("li", { class: `stage-group${s === table.stage ? " current" : ""}` }, head, body);
  });
  $("notes").replaceChildren(...groups);
  $("notes-total").textContent = plural(notes.size, "note");
  $("notes-empty").hidden = notes.size > 0;
}

async function move(direction) {
  if (busy || !live.state.loaded) return;
  const button = $(`${direction}-step`);
  const hadFocus = document.activeElement === button;
  busy = true;
  say($("step-error"), "");
  render();
  const ack = await live.request(`step.${direction}`, { from: live.state.table.step });
  busy = false;
  if (!ack.ok) {
    say($("step-error"), ack.error.message);
    if (ack.error.code === "stale") live.sync();
  }
  render();
  // Disabling a focused button drops keyboard focus on the floor: put it back.
  if (hadFocus) (button.disabled ? $(direction === "next" ? "prev-step" : "next-step") : button).focus();
}

$("prev-step").addEventListener("click", () => move("prev"));
$("next-step").addEventListener("click", () => move("next"));
