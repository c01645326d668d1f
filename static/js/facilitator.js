// The facilitator's page: run one table through the steps of each stage, tidy its notes
// (themes, merges, big ideas, hiding), write each stage's summary, and say when the table
// is ready. Tablet first; everything also works on a phone, without dragging.
//
// The board is state, changed only by reduceBoard (board-state.js); this page draws it and
// sends the facilitator's intents.
import { connect } from "./connection.js";
import { emptyBoard, reduceBoard } from "./board-state.js";
import { $, announcer, clock, createStore, debounce, linkToken, h, keepFocus, perFrame, randomHex, say, store } from "./dom.js";
import { countsBlind, locked, plural, snippet as cut, timerWords } from "./rules.js";

const STATUS_WORDS = { draft: "Not started yet", live: "Live", closed: "Closed" };
const KIND_WORDS = { write: "writing", reveal: "reveal", discuss: "discussion", group: "grouping", vote: "voting", summarise: "summary" };
const TRANSIENT = new Set(["offline", "timeout", "server_error", "storage_full", "rate_limited"]);
const SAVE_MS = 800;
const token = linkToken("facilitator"); // read once: the link's key never stays on screen
const selected = new Set(); // note ids ticked for grouping or merging
const openStages = new Set(); // earlier stages whose <details> are open
const editors = new Map(); // stage -> summary editor (kept across renders: typing never loses focus)
const announce = announcer($("announcer"));
let busy = false;
let drag = null; // a note being dragged onto a theme
let renderWanted = false;

function fatal(message) {
  say($("fatal-message"), message);
  $("fatal").hidden = false;
  $("status").textContent = "Not connected";
  $("main").hidden = true;
}

const board = createStore(reduceBoard, emptyBoard(), (state, a) => {
  if (a.type === "snapshot") return render();
  if (a.type === "change") {
    if (a.change.type === "note.added") announce(1);
    if (a.change.type === "summary.changed") editors.get(a.change.data.stage)?.fromServer();
  }
  if (a.type === "presence") return renderPresence();
  renderSoon();
});
const S = () => board.state;
const live = token ? connect({
  scope: "table",
  auth: { token },
  dispatch: (a) => board.dispatch(a),
  onSynced() { for (const ed of editors.values()) ed.save(); },
  onFatal: (err) => { if (err.code !== "abuse" && err.code !== "kicked") fatal(err.message); },
}) : null;
if (live) globalThis.plenary = { socket: live.socket, get state() { return S(); }, live };
else fatal("This link is missing its key (the part after #). Open the full facilitator link again.");

// --- the table, the stage and its steps ----------------------------------------------

const renderSoon = perFrame(() => render());

function render() {
  const { event, table, loaded } = S();
  if (!loaded) return;
  $("main").hidden = false;
  const stages = event.template.stages;
  const stage = stages[table.stage];
  const step = stage.steps[table.step];
  document.title = `Table ${table.number} (facilitator) — Plenary`;
  say($("event-title"), event.title);
  $("table-number").textContent = table.number;
  say($("topic"), table.topic?.title);
  const badge = $("event-status");
  badge.textContent = `Event: ${STATUS_WORDS[event.status] || event.status}`;
  badge.dataset.status = event.status;
  $("main").dataset.kind = step?.kind || "";
  $("stage-count").textContent = `Stage ${table.stage + 1} of ${stages.length}`;
  $("stage-title").textContent = stage.title;
  say($("stage-prompt"), stage.prompt);
  $("stage-prompt").closest("details").hidden = !stage.prompt;
  $("steps").replaceChildren(...stage.steps.map((s, i) => h("li",
    { class: i === table.step ? "current" : i < table.step ? "done" : "", "aria-current": i === table.step ? "step" : null },
    h("span", { class: "step-label" }, h("span", { class: "step-name", text: s.title }),
      h("span", { class: "step-kind", text: kindWords(s) })),
    i === table.step ? h("span", { class: "now", text: "Now" }) : null)));
  say($("step-instructions"), step?.instructions);
  say($("message"), event.message ? `Message from the organiser: ${event.message}` : "");
  say($("locked"), locked(event, table) ? "The organiser has locked the board: participants can read it but not post, edit or vote." : "");
  say($("blind"), countsBlind(event, table) ? "Vote counts are hidden from everyone, you included, until voting closes." : "");
  tick();
  renderStepButtons(event, table, stage);
  const ready = $("ready");
  ready.checked = !!table.ready;
  ready.disabled = event.status !== "live";
  renderPresence();
  renderSummaries();
  if (drag) renderWanted = true; // a drag holds on to its note: draw the board after the drop
  else renderBoard();
}

// The stage timer, when the organiser runs one: redrawn each second while it runs.
let ticking = 0;
function tick() {
  const { event, offset } = S();
  say($("timer"), timerWords(event, offset, Date.now()));
  $("timer").dataset.state = event.timer?.state || "";
  clearTimeout(ticking);
  if (event.status === "live" && event.timer?.state === "running") ticking = setTimeout(tick, 1000 - ((Date.now() + offset) % 1000) + 20);
}

function kindWords(step) {
  const k = KIND_WORDS[step.kind] || step.kind;
  return step.private ? `${k}, private` : k;
}

/** Where a step button goes, in words: its step's name, and what moving there does
 *  ("Group the notes: reveals the notes"). Back and forward never read the same. */
function moveWords(from, to, back) {
  if (!to) return "";
  const does = back
    ? (from.kind === "vote" && to.kind !== "vote" ? "reopens posting, closes voting" : to.kind === "vote" ? "reopens voting" : "")
    : (from.private && !to.private ? "reveals the notes" : to.kind === "vote" && from.kind !== "vote" ? "opens voting"
      : from.kind === "vote" ? "closes voting" : "");
  return does ? `${to.title} (${does})` : to.title;
}

function renderStepButtons(event, table, stage) {
  const live_ = event.status === "live";
  const steps = stage.steps;
  const cur = steps[table.step];
  const last = table.step >= steps.length - 1;
  $("next-label").textContent = last ? "— (last step)" : moveWords(cur, steps[table.step + 1], false);
  $("prev-label").textContent = table.step === 0 ? "— (first step)" : moveWords(cur, steps[table.step - 1], true);
  $("prev-step").disabled = busy || !live_ || table.step === 0;
  $("next-step").disabled = busy || !live_ || last;
  const next = steps[table.step + 1];
  $("step-hint").textContent =
    event.status === "draft" ? "The steps can move once the organiser starts the event." :
    event.status === "closed" ? "The event has closed." :
    last ? "This is the last step of the stage. The organiser moves every table to the next stage." :
    cur.private && !next.private ? `Moving on to “${next.title}” shows everyone's notes at once.` :
    next.kind === "vote" ? `Moving on to “${next.title}” opens dot voting.` :
    cur.kind === "vote" && (event.template.vote_counts || "after_vote") === "after_vote" ? "Closing the vote shows everyone the counts." :
    `Next: ${next.title}.`;
}

async function move(direction) {
  if (busy || !S().loaded) return;
  const button = $(`${direction}-step`);
  const hadFocus = document.activeElement === button;
  busy = true;
  say($("step-error"), "");
  render();
  const ack = await live.request(`step.${direction}`, { from: S().table.step });
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

$("ready").addEventListener("change", async (e) => {
  const want = e.target.checked;
  say($("ready-error"), "");
  const ack = await live.request("table.ready", { ready: want });
  if (!ack.ok) {
    e.target.checked = !!S().table.ready;
    say($("ready-error"), ack.error.message);
  } else board.dispatch({ type: "ready", ready: want });
});

/** "7 participants connected: Ana, Ben … and 2 anonymous". */
function renderPresence() {
  const p = S().presence;
  let words = "No participants connected yet.";
  if (p?.count) {
    const names = p.names || [];
    const shown = names.slice(0, 8);
    const parts = [...shown];
    if (names.length > shown.length) parts.push(`${names.length - shown.length} more`);
    if (p.anonymous) parts.push(`${p.anonymous} anonymous`);
    words = `${plural(p.count, "participant")} connected` + (
      !names.length ? (p.anonymous ? (p.count === 1 ? ", anonymous." : ", all anonymous.") : ".") :
      `: ${parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}` : parts[0]}.`);
  }
  if ($("presence").textContent !== words) $("presence").textContent = words;
}

// --- summaries: saved as they type, kept on the device until saved ------------------------

function summaryEditor(stageIndex) {
  const key = `plenary:summary:${S().table.id}:${stageIndex}`;
  const id = `summary-${stageIndex}`;
  const title = () => `Stage ${stageIndex + 1}: ${S().event.template.stages[stageIndex]?.title || ""}`;
  const label = h("label", { for: id, text: `Summary of ${title()}` });
  const field = h("textarea", { id, rows: 5, maxlength: 5000, dir: "auto", "aria-describedby": `${id}-state` });
  const stateLine = h("p", { id: `${id}-state`, class: "save-state", "aria-live": "polite" });
  const wrap = h("div", { class: "summary-editor", "data-stage": stageIndex }, label, field, stateLine);
  let saving = false;
  let again = false;
  let dirty = false;
  const show = (kind, words) => {
    stateLine.dataset.state = words ? kind : "";
    if (stateLine.textContent !== words) stateLine.textContent = words;
  };
  const ed = {
    wrap,
    field,
    /** The server's text, unless this device has words of its own still to send. */
    fromServer() {
      const server = S().summaries[stageIndex] ?? "";
      if (dirty || document.activeElement === field || field.value === server) return;
      field.value = server;
      show("saved", server ? "Saved" : "");
    },
    async save() {
      saveSoon.cancel();
      if (!dirty) return;
      if (saving) { again = true; return; }
      if (!live.socket.connected) return show("waiting", "Not saved yet: kept on this device, and saved when the connection is back.");
      saving = true;
      const text = field.value;
      show("saving", "Saving…");
      const ack = await live.request("summary.set", { stage: stageIndex, text });
      saving = false;
      if (ack.ok) {
        board.dispatch({ type: "summary.saved", stage: stageIndex, text });
        if (field.value === text) {
          dirty = false;
          store.set(key, null);
          show("saved", `Saved at ${clock(Date.now())}`);
        }
      } else if (TRANSIENT.has(ack.error.code)) {
        show("waiting", `Not saved yet: ${ack.error.message} It is kept on this device and saved again shortly.`);
        setTimeout(() => ed.save(), 5000);
      } else show("error", `Not saved: ${ack.error.message}`);
      if (again || (dirty && field.value !== text)) { again = false; ed.save(); }
    },
  };
  const saveSoon = debounce(() => ed.save(), SAVE_MS);
  field.addEventListener("input", () => {
    dirty = true;
    store.set(key, { text: field.value, at: Date.now() });
    show("typing", "Not saved yet…");
    saveSoon();
  });
  // Leaving the field: save it, then show what another screen may have written meanwhile.
  field.addEventListener("blur", async () => { await ed.save(); ed.fromServer(); });
  // Words typed before the tablet slept (or the page closed) and never saved: bring them back.
  const kept = store.get(key);
  const server = S().summaries[stageIndex] ?? "";
  if (kept && typeof kept.text === "string" && kept.text !== server) {
    field.value = kept.text;
    dirty = true;
    show("waiting", "Not saved yet: restored from this device.");
    queueMicrotask(() => ed.save());
  } else {
    field.value = server;
    if (server) show("saved", "Saved");
  }
  return ed;
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") for (const ed of editors.values()) ed.save();
});
addEventListener("pagehide", () => { for (const ed of editors.values()) ed.save(); });

function renderSummaries() {
  const { table } = S();
  for (let s = 0; s <= table.stage; s++) {
    if (!editors.has(s)) editors.set(s, summaryEditor(s));
    else editors.get(s).fromServer();
  }
  const current = editors.get(table.stage);
  // Move an editor only when the stage changed, never while someone types in it.
  if (current.wrap.parentElement !== $("summary-current") && document.activeElement !== current.field) {
    $("summary-current").replaceChildren(current.wrap);
  }
  const earlier = [...editors.keys()].filter((s) => s < table.stage).sort((a, b) => b - a);
  $("summary-earlier").hidden = !earlier.length;
  const list = $("summary-earlier-list");
  for (const s of earlier) {
    const ed = editors.get(s);
    if (ed.wrap.parentElement !== list && document.activeElement !== ed.field) list.append(ed.wrap);
  }
  $("summary-title").textContent = `Table summary: stage ${table.stage + 1}`;
}

// --- the board ----------------------------------------------------------------------

const snippet = (s) => cut(s, 50);

function noteCard(n, stage) {
  const short = snippet(n.text);
  const cat = n.category && stage.categories?.find((c) => c.id === n.category);
  const tags = [];
  if (n.starred) tags.push(h("span", { class: "tag star", text: "★ Big idea" }));
  if (n.hidden) tags.push(h("span", { class: "tag hidden-tag", text: "Hidden from participants" }));
  if (n.private) tags.push(h("span", { class: "tag private", text: "Private until revealed" }));
  if (cat) tags.push(h("span", { class: "tag", text: cat.label }));
  const blind = countsBlind(S().event, S().table) && n.stage === S().table.stage;
  if (n.votes > 0 && !blind) tags.push(h("span", { class: "tag votes", text: plural(n.votes, "vote") }));
  if (n.late) tags.push(h("span", { class: "tag", text: "Sent after the close" }));
  const open = S().event.status === "live";
  return h("li", { class: `note fac-note${n.hidden ? " is-hidden" : ""}${n.private ? " private" : ""}${n.starred ? " starred" : ""}${selected.has(n.id) ? " picked" : ""}`, "data-note": n.id },
    h("div", { class: "note-top" },
      h("label", { class: "pick" },
        h("input", { type: "checkbox", "data-act": "select", "data-id": n.id, "data-key": `select:${n.id}`, checked: selected.has(n.id), "aria-label": `Select: ${short}` }),
        h("span", { class: "pick-word", "aria-hidden": "true", text: "Select" })),
      open ? h("span", { class: "grip", "aria-hidden": "true", "data-grip": n.id, title: "Drag onto a theme", text: "⠿" }) : null),
    tags.length ? h("p", { class: "tags" }, tags) : null,
    h("p", { class: "note-text", dir: "auto", text: n.text }),
    h("p", { class: "note-meta" }, n.author || "Anonymous", " · ",
      h("time", { datetime: new Date(n.at).toISOString(), text: clock(n.at) }), n.edited_at ? " · edited" : ""),
    h("div", { class: "note-actions" },
      h("button", { type: "button", class: "button small", "data-act": "star", "data-id": n.id, "data-key": `star:${n.id}`, "aria-pressed": String(!!n.starred), "aria-label": `Big idea: ${short}`, text: n.starred ? "★ Big idea" : "☆ Big idea" }),
      h("button", { type: "button", class: "button small", "data-act": n.hidden ? "unhide" : "hide", "data-id": n.id, "data-key": `hide:${n.id}`, "aria-label": `${n.hidden ? "Show to participants" : "Hide from participants"}: ${short}`, text: n.hidden ? "Show to participants" : "Hide" }),
      n.group && S().groups[n.group] ? h("button", { type: "button", class: "button small", "data-act": "ungroup", "data-id": n.id, "data-key": `ungroup:${n.id}`, "aria-label": `Take out of theme: ${short}`, text: "Take out of theme" }) : null));
}

const newest = (a, b) => b.at - a.at || (a.id < b.id ? 1 : -1);

function notesSection(list, stage, label) {
  return h("ul", { class: "notes", "aria-label": label }, list.sort(newest).map((n) => noteCard(n, stage)));
}

function stageBody(s, list) {
  const { event, groups: byId } = S();
  const groups = new Map(Object.entries(byId));
  const stage = event.template.stages[s] || { title: "", categories: [] };
  if (!list.length) return [h("p", { class: "muted", text: "No notes in this stage yet." })];
  const themes = [...groups.values()]
    .filter((g) => g.stage === s || list.some((n) => n.group === g.id))
    .sort((a, b) => a.label.localeCompare(b.label));
  const out = themes.map((g) => {
    const inTheme = list.filter((n) => n.group === g.id);
    return h("section", { class: "theme", "data-drop": g.id, "data-stage": s, "aria-label": `Theme: ${g.label}` },
      h("div", { class: "theme-head" },
        h("h4", {}, h("span", { class: "eyebrow", text: "Theme" }), g.label, " ", h("span", { class: "count-pill", text: plural(inTheme.length, "note") })),
        h("div", { class: "row theme-actions" },
          h("button", { type: "button", class: "button small", "data-act": "rename", "data-id": g.id, "data-key": `rename:${g.id}`, "aria-label": `Rename theme: ${g.label}`, text: "Rename" }),
          h("button", { type: "button", class: "button small", "data-act": "ungroup-all", "data-id": g.id, "data-key": `del:${g.id}`, "aria-label": `Delete theme: ${g.label} (its notes stay)`, text: "Delete theme" }))),
      inTheme.length ? notesSection(inTheme, stage, `Theme: ${g.label}`) : h("p", { class: "muted drop-hint", text: "No notes in this theme yet." }));
  });
  const loose = list.filter((n) => !n.group || !groups.has(n.group));
  const cats = stage.categories || [];
  const looseTitle = themes.length ? "Not in a theme" : "Notes";
  let looseBody;
  if (!loose.length) looseBody = h("p", { class: "muted drop-hint", text: "Every note is in a theme." });
  else if (!cats.length) looseBody = notesSection(loose, stage, looseTitle);
  else {
    looseBody = h("div", { class: "categories" }, [...cats, { id: null, label: "No category" }].map((c) => {
      const inCat = loose.filter((n) => (n.category ?? null) === c.id || (c.id === null && !cats.some((k) => k.id === n.category)));
      if (!inCat.length && c.id === null) return null;
      return h("section", { class: "category" },
        h("h5", {}, c.label, " ", h("span", { class: "count-pill", text: String(inCat.length) })),
        inCat.length ? notesSection(inCat, stage, `${looseTitle}: ${c.label}`) : h("p", { class: "muted", text: "None yet." }));
    }));
  }
  if (themes.length || cats.length) {
    out.push(h("section", { class: "theme loose", "data-drop": "", "data-stage": s, "aria-label": looseTitle },
      themes.length ? h("h4", { text: looseTitle }) : null, looseBody));
  } else out.push(h("section", { class: "theme loose bare", "data-drop": "", "data-stage": s, "aria-label": looseTitle }, looseBody));
  return out;
}

function renderBoard() {
  renderWanted = false;
  const { event, table, notes: byId, groups } = S();
  const notes = new Map(Object.entries(byId));
  for (const id of selected) if (!notes.has(id)) selected.delete(id);
  const byStage = new Map([[table.stage, []]]);
  for (const n of notes.values()) {
    if (!byStage.has(n.stage)) byStage.set(n.stage, []);
    byStage.get(n.stage).push(n);
  }
  const order = [...byStage.keys()].sort((a, b) => (a === table.stage ? -1 : b === table.stage ? 1 : b - a));
  const items = order.map((s) => {
    const list = byStage.get(s);
    const title = `Stage ${s + 1}: ${event.template.stages[s]?.title || ""}`;
    const pill = h("span", { class: "count-pill", text: plural(list.length, "note") });
    if (s === table.stage) {
      return h("li", { class: "stage-group current" }, h("h3", {}, title, " (now) ", pill), stageBody(s, list));
    }
    // A closed stage is drawn when opened: a long day's board stays quick to redraw.
    const open = openStages.has(s);
    const d = h("details", { class: "stage-group earlier-stage", "data-stage": s, open },
      h("summary", { "data-key": `stage:${s}` }, h("span", { text: title }), " ", pill), open ? stageBody(s, list) : null);
    d.addEventListener("toggle", () => {
      if (d.open === openStages.has(s)) return;
      if (d.open) openStages.add(s);
      else openStages.delete(s);
      renderBoard();
    });
    return h("li", { class: "stage-group" }, d);
  });
  keepFocus(() => $("notes").replaceChildren(...items));
  // The badge counts what the board shows first: this stage's notes (earlier stages say theirs).
  $("notes-total").textContent = `${plural(byStage.get(table.stage).length, "note")} this stage`;
  $("notes-empty").hidden = notes.size > 0;
  $("theme-names").replaceChildren(...Object.values(groups).filter((g) => g.stage === table.stage)
    .map((g) => h("option", { value: g.label })));
  renderSelection();
}


function renderSelection() {
  const n = selected.size;
  $("select-bar").hidden = n === 0;
  const words = n ? `${plural(n, "note")} selected` : "";
  if ($("select-count").textContent !== words) $("select-count").textContent = words;
  $("merge-open").disabled = n !== 2;
  $("merge-open").title = n === 2 ? "" : "Select exactly two notes to merge";
}

// --- the facilitator's tools ---------------------------------------------------------------

async function act(name, payload, errorEl = $("board-error")) {
  say(errorEl, "");
  const ack = await live.request(name, payload);
  if (!ack.ok) say(errorEl, ack.error.message);
  return ack;
}

$("notes").addEventListener("change", (e) => {
  const box = e.target.closest("input[data-act='select']");
  if (!box) return;
  if (box.checked) selected.add(box.dataset.id);
  else selected.delete(box.dataset.id);
  box.closest(".note")?.classList.toggle("picked", box.checked);
  renderSelection();
});

$("notes").addEventListener("click", (e) => {
  const b = e.target.closest("button[data-act]");
  if (!b) return;
  const id = b.dataset.id;
  const n = S().notes[id];
  switch (b.dataset.act) {
    case "star": return n && act("note.star", { id, starred: !n.starred });
    case "hide": return act("note.hide", { id, hidden: true });
    case "unhide": return act("note.hide", { id, hidden: false });
    case "ungroup": return act("note.group", { id, group: null });
    case "ungroup-all": return act("group.delete", { id });
    case "rename": return openRename(id, b.dataset.key);
    default: return undefined;
  }
});

$("group-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const label = $("group-label").value.replace(/\s+/g, " ").trim();
  if (!label) {
    say($("board-error"), "Give the theme a name first.");
    return $("group-label").focus();
  }
  const { groups, table } = S();
  const same = Object.values(groups).find((g) => g.stage === table.stage && g.label.toLowerCase() === label.toLowerCase());
  const ack = await act("group.save", { id: same?.id || randomHex(12), label: same?.label || label, notes: [...selected] });
  if (ack.ok) {
    selected.clear();
    $("group-label").value = "";
    render();
    $("notes-heading").focus();
  }
});

$("select-clear").addEventListener("click", () => {
  selected.clear();
  render();
  $("notes-heading").focus();
});

// Merge: of two ticked notes, keep one; the other folds into it.
$("merge-open").addEventListener("click", () => {
  if (selected.size !== 2) return say($("board-error"), "Select exactly two notes to merge.");
  const [a, b] = [...selected].map((id) => S().notes[id]);
  if (a.stage !== b.stage) return say($("board-error"), "Only notes of the same stage can be merged.");
  say($("merge-error"), "");
  $("merge-options").replaceChildren(...[a, b].map((n, i) => h("label", { class: "choice" },
    h("input", { type: "radio", name: "keep", value: n.id, checked: i === 0 }),
    h("span", { class: "choice-text" }, h("strong", { text: `Keep: ${n.text}` }), h("small", { text: `${n.author || "Anonymous"}${n.votes ? ` · ${plural(n.votes, "vote")}` : ""}` })))));
  $("merge-dialog").showModal();
});
$("merge-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const keep = $("merge-options").querySelector(":checked")?.value;
  const other = [...selected].find((id) => id !== keep);
  if (!keep || !other) return say($("merge-error"), "Choose the note to keep.");
  const ack = await act("note.merge", { id: other, into: keep }, $("merge-error"));
  if (ack.ok) {
    selected.clear();
    $("merge-dialog").close();
    render();
    $("notes-heading").focus();
  }
});
$("merge-cancel").addEventListener("click", () => $("merge-dialog").close());

let renaming = null;
function openRename(groupId, key) {
  const g = S().groups[groupId];
  if (!g) return;
  renaming = { id: groupId, key };
  $("rename-label").value = g.label;
  say($("rename-error"), "");
  $("rename-dialog").showModal();
}
$("rename-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const label = $("rename-label").value.replace(/\s+/g, " ").trim();
  if (!label) return say($("rename-error"), "A theme needs a name.");
  const ack = await act("group.save", { id: renaming.id, label, notes: [] }, $("rename-error"));
  if (ack.ok) $("rename-dialog").close();
});
$("rename-cancel").addEventListener("click", () => $("rename-dialog").close());
$("rename-dialog").addEventListener("close", () => {
  const key = renaming?.key;
  renaming = null;
  if (key) document.querySelector(`[data-key="${CSS.escape(key)}"]`)?.focus();
});

// --- drag a note onto a theme (tablet, mouse): pointer events, so touch works too ----------

$("notes").addEventListener("pointerdown", (e) => {
  const grip = e.target.closest("[data-grip]");
  if (!grip || e.button > 0 || drag) return;
  const n = S().notes[grip.dataset.grip];
  const card = grip.closest(".note");
  if (!n || !card) return;
  e.preventDefault();
  const ghost = h("div", { class: "drag-ghost", "aria-hidden": "true", text: snippet(n.text) });
  document.body.append(ghost);
  drag = { id: n.id, stage: n.stage, grip, card, ghost, over: null, pointer: e.pointerId };
  grip.setPointerCapture(e.pointerId);
  card.classList.add("dragging");
  document.body.classList.add("is-dragging");
  moveDrag(e);
});

function dropTarget(x, y) {
  const el = document.elementFromPoint(x, y)?.closest("[data-drop]");
  return el && Number(el.dataset.stage) === drag.stage ? el : null;
}

function moveDrag(e) {
  if (!drag || e.pointerId !== drag.pointer) return;
  drag.ghost.style.transform = `translate(${Math.round(e.clientX + 12)}px, ${Math.round(e.clientY + 12)}px)`;
  const over = dropTarget(e.clientX, e.clientY);
  if (over !== drag.over) {
    drag.over?.classList.remove("drop-over");
    over?.classList.add("drop-over");
    drag.over = over;
  }
  // Near the top or bottom of the screen: scroll, so a theme further away can be reached.
  if (e.clientY < 70) scrollBy(0, -12);
  else if (e.clientY > innerHeight - 70) scrollBy(0, 12);
}

async function endDrag(e, cancelled) {
  if (!drag || e.pointerId !== drag.pointer) return;
  const { id, over, ghost, card } = drag;
  ghost.remove();
  card.classList.remove("dragging");
  document.body.classList.remove("is-dragging");
  over?.classList.remove("drop-over");
  drag = null;
  const group = over ? over.dataset.drop || null : undefined;
  const n = S().notes[id];
  if (!cancelled && group !== undefined && n && (n.group ?? null) !== group) {
    await act("note.group", { id, group });
  }
  if (renderWanted || !cancelled) render();
}

$("notes").addEventListener("pointermove", moveDrag);
$("notes").addEventListener("pointerup", (e) => endDrag(e, false));
$("notes").addEventListener("pointercancel", (e) => endDrag(e, true));
$("notes").addEventListener("lostpointercapture", (e) => drag && endDrag(e, false));
