// A participant's phone: one table's board, and an outbox that never loses a note, an
// edit, a delete or a vote. Everything the person does goes into the outbox first (kept in
// localStorage), and the outbox is sent in order, each item with the id it was given
// when it was made, so a retry after a lost answer never counts twice.
//
// The board itself is state, changed only by reduceBoard (board-state.js); this page draws
// it and sends intents. The last known board is kept on the phone too, so a reload without
// a connection shows the board, the composer and the waiting notes at once.
import { connect } from "./connection.js";
import { emptyBoard, reduceBoard } from "./board-state.js";
import { $, announcer, clock, createStore, debounce, h, keepFocus, perFrame, randomHex, say, store } from "./dom.js";
import { countsBlind, locked, plural, postingOpen, snippet, stepOf, timerWords, votesFor } from "./rules.js";

const code = decodeURIComponent(location.pathname.split("/j/")[1] || "").replace(/[\s-]/g, "").toUpperCase();
const QUEUE = `plenary:queue:${code}`;
const DRAFT = `plenary:draft:${code}`;
const BOARD = `plenary:board:${code}`; // the last known board, for a reload without a network
const READ = `plenary:read:${code}`; // the step whose question and instructions were read
// Worth sending again later, with the same id; any other refusal is the server saying no.
const TRANSIENT = new Set(["offline", "timeout", "server_error", "storage_full", "rate_limited", "board_locked"]);
const text = $("note-text");
const error = $("compose-error");
const nameInput = $("name");
const announce = announcer($("announcer"));

let keyHex = store.get(`plenary:key:${code}`);
if (!/^[0-9a-f]{32,128}$/.test(keyHex)) store.set(`plenary:key:${code}`, keyHex = randomHex(16));

// The outbox. Items: {op: "post", id, text, category, at, stage} | {op: "edit", id, text,
// category} | {op: "delete", id} | {op: "vote", id, note} | {op: "unvote", id, note}.
// The first round of pages kept only posts, without `op`, under another key: keep those.
let queue = (Array.isArray(store.get(QUEUE)) ? store.get(QUEUE) : [])
  .concat((store.get(`plenary:pending:${code}`) || []).map((p) => ({ op: "post", ...p })))
  .filter((q) => q && typeof q.id === "string" && q.op);
const saveQueue = () => store.set(QUEUE, queue.map(({ inflight, ...q }) => q));
saveQueue();
try { localStorage.removeItem(`plenary:pending:${code}`); } catch { /* nothing kept there */ }

let savedName = nameInput.value = String(store.get("plenary:name") || "").slice(0, 40);
let catStage = -1;
let retryTimer = 0;
let flushing = false;
const seen = new Set();
let painted = false;
let editing = null; // the note id in the edit sheet
let deleting = null;
let guideOpenFor = null; // the step whose guide this visit opened (closed again on first use)

function fatal(message) {
  say($("fatal-message"), message);
  $("fatal").hidden = false;
  $("main").hidden = true;
  $("status").textContent = "Not connected";
}

const board = createStore(reduceBoard, emptyBoard(), afterAction);
const S = () => board.state;
// Kept as it changes (once per burst), and when the page goes away.
let keepTimer = 0;
function saveBoard() {
  clearTimeout(keepTimer);
  keepTimer = 0;
  const s = S();
  if (s.loaded && s.table) store.set(BOARD, { ...s, restored: false });
}
const keepBoard = () => { if (!keepTimer) keepTimer = setTimeout(saveBoard, 50); };
addEventListener("pagehide", saveBoard);

function afterAction(state, action) {
  if (action.type === "change") onChange(action.change, state);
  if (action.type === "snapshot") {
    if (stepOf(state.event, state.table)?.private) countHiddenSoFar(state.table.seq);
    render();
  } else if (action.type === "event") { renderSoon(); flush(); } else renderSoon();
  if (action.type !== "presence") keepBoard();
}

// Assigned once connect returns (start(), at the end of this module, once everything the
// first render needs is defined); its callbacks (the status line first) may run before.
let live = null;
function start() {
  if (!code) return fatal("This link has no table code in it. Enter the code from your table's card.");
  for (const q of queue) if (q.op === "post" || q.op === "vote") board.dispatch({ type: "own", id: q.id });
  live = connect({
    scope: "table",
    auth: { join_code: code, participant_key: Uint8Array.from(keyHex.match(/../g), (x) => parseInt(x, 16)), name: savedName || null },
    pending: waitingWords,
    dispatch: (a) => board.dispatch(a),
    onSynced: flush,
    onStatus: () => painted && renderOutbox(),
    onFatal: (err) => (err.code === "abuse" || err.code === "kicked" ? say(error, err.message) : fatal(err.message)),
  });
  globalThis.plenary = { socket: live.socket, get state() { return S(); }, live };
  // The last board this phone saw, at once: a reload with no connection is not a blank page.
  const kept = store.get(BOARD);
  if (kept?.table && kept.event && !S().loaded) {
    board.dispatch({ type: "restore", board: kept });
    live.refreshStatus();
  }
}

// A service worker keeps the page itself for a reload with no network at all. Browsers
// allow one only in a secure context (https, or localhost): on a plain-http venue network
// the page still keeps the board and the outbox, but cannot reload without a connection.
if (window.isSecureContext && "serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => { /* the page works without it */ });
}

/** "2 notes" or "3 changes": what the status line says is waiting. */
function waitingWords() {
  if (!queue.length || (S().loaded && isLocked())) return "";
  return queue.every((q) => q.op === "post") ? plural(queue.length, "note") : plural(queue.length, "change");
}

/** A fresh snapshot never carries others' silent writing, not even how much there is: ask
 *  for the changes since the step began, and count the placeholders in them. */
async function countHiddenSoFar(seq) {
  const ack = await live.request("sync", { since: Math.max(0, seq - 500) });
  if (ack.ok && ack.mode === "changes") board.dispatch({ type: "private.replay", upTo: seq, changes: ack.changes });
}

function onChange(c, state) {
  if (c.type === "note.added" && !state.notes[c.data.note.id]?.mine) announce(1);
  if (c.type === "notes.revealed") announce((c.data.notes || []).filter((n) => !state.notes[n.id]?.mine).length);
  if (c.type === "table.locked" && !c.data.locked) flush();
}

// --- rendering -----------------------------------------------------------------

const renderSoon = perFrame(() => render());
const isLocked = () => locked(S().event, S().table);
const closed = () => S().event.status === "closed";

function render() {
  const s = S();
  if (!s.loaded) return;
  const { event, table } = s;
  const stages = event.template.stages;
  const stage = stages[table.stage];
  const step = stage.steps[table.step];
  $("main").hidden = false;
  document.title = `Table ${table.number} — ${event.title}`;
  say($("event-title"), event.title);
  $("table-number").textContent = table.number;
  say($("topic"), table.topic?.title);
  $("brief").textContent = table.topic?.brief || "";
  $("brief-box").hidden = !table.topic?.brief;
  $("stage-count").textContent = closed() ? `${stages.length} stages` : `Stage ${table.stage + 1} of ${stages.length}`;
  $("stage-title").textContent = closed() ? "The event has closed" : stage.title;
  // After the close nothing is "now" any more: no step, no timer, no message.
  $("now-line").hidden = closed() || event.status === "draft";
  $("step-title").textContent = step.title;
  renderGuide(stage, step);
  const open = postingOpen(event, table) && !isLocked();
  $("posting").dataset.open = open;
  $("posting").textContent =
    event.status === "closed" ? "The event has closed. Thank you for taking part: every note is in the report." :
    isLocked() ? "The organiser has locked the board for now: you can read it, but not post, edit or vote. Anything you write is kept on this phone until it opens again." :
    event.status === "draft" ? "Not started yet: you can post once the organiser starts the event." :
    step.kind === "vote" ? "Posting is closed while the table votes." :
    !open ? "Posting is closed during this step." :
    step.private ? "Posting is open. Your notes stay private until the facilitator reveals them." : "Posting is open.";
  // The box stays while it holds words, so nothing typed disappears with a step change.
  $("compose-panel").hidden = !open && !text.value.trim();
  if (!event.template.show_author_names) $("name-help").textContent = "Names are not shown at this event: every note is anonymous.";
  if (catStage !== table.stage) {
    catStage = table.stage;
    const cats = stage.categories || [];
    $("categories").hidden = !cats.length;
    $("category-options").replaceChildren(...categoryChoices(cats, "category", "hint"));
  }
  say($("message"), event.message && !closed() ? `Message from the organiser: ${event.message}` : "");
  tick();
  updateCount(text, $("note-count"));
  renderVoting();
  renderNotes();
  renderOutbox();
  painted = true;
}

/** The stage's question and the step's instructions: open the first time this phone
 *  shows the step, folded away after that (and once the person writes or votes), so the
 *  first screen is the composer or the vote list, not instructions read already. */
function renderGuide(stage, step) {
  const s = S();
  const key = `${s.table.stage}:${s.table.step}`;
  say($("stage-prompt"), stage.prompt);
  say($("step-instructions"), closed() ? "" : step.instructions);
  $("guide").hidden = !stage.prompt && (!step.instructions || closed());
  if (store.get(READ) !== key) {
    store.set(READ, key);
    guideOpenFor = key;
    $("guide").open = true;
  } else if (guideOpenFor !== key && $("guide").dataset.key !== key) $("guide").open = false;
  $("guide").dataset.key = key;
}
const guideRead = () => { guideOpenFor = null; $("guide").open = false; };
text.addEventListener("focus", () => { if (guideOpenFor) guideRead(); });

function categoryChoices(cats, name, prefix, selected) {
  // Each radio is named by its label alone; the hint describes it.
  return cats.map((c, i) => h("label", { class: "choice" },
    h("input", { type: "radio", name, value: c.id, checked: c.id === selected, "aria-label": c.label, "aria-describedby": c.hint && `${prefix}-${i}` }),
    h("span", { class: "choice-text" }, h("strong", { text: c.label }), c.hint && h("small", { id: `${prefix}-${i}`, text: c.hint }))));
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

const stageOpen = (n) => S().event.status === "live" && n.stage === S().table.stage;
const voting = () => S().event.status === "live" && stepOf(S().event, S().table)?.kind === "vote";

/** My dots on each note this stage: the server's, plus what waits in the outbox. */
function myDots() {
  const { myVotes } = S();
  const dots = new Map();
  const add = (note, k) => dots.set(note, (dots.get(note) || 0) + k);
  for (const v of Object.values(myVotes)) add(v.note, 1);
  for (const q of queue) {
    if (q.op === "vote" && !myVotes[q.id]) add(q.note, 1);
    if (q.op === "unvote" && myVotes[q.id]) add(q.note, -1);
  }
  return dots;
}

function votesLeft() {
  const { event, table, limits } = S();
  let used = 0;
  for (const n of myDots().values()) used += n;
  const limit = limits[table.stage] ?? votesFor(event, table.stage);
  return { used, limit, left: Math.max(0, limit - used) };
}

function renderVoting() {
  const on = voting();
  $("vote-box").hidden = !on;
  if (!on) return say($("vote-error"), "");
  const { left, limit } = votesLeft();
  const words = left ? `${left} of ${limit} ${limit === 1 ? "vote" : "votes"} left.` : `You have used all ${limit} of your votes. Take one back to vote for something else.`;
  if ($("votes-left").textContent !== words) $("votes-left").textContent = words;
}

function noteItem(n, opts = {}) {
  const { event, table } = S();
  if (painted && !seen.has(n.id)) opts.extra = `${opts.extra || ""} fresh`;
  seen.add(n.id);
  const cat = n.category && event.template.stages[n.stage]?.categories?.find((c) => c.id === n.category);
  const short = snippet(n.text);
  const tags = [];
  if (n.starred) tags.push(h("span", { class: "tag star", text: "★ Big idea" }));
  if (cat) tags.push(h("span", { class: "tag", text: cat.label }));
  if (n.mine && n.private) tags.push(h("span", { class: "tag private", text: "Only you can see this until the reveal" }));
  if (n.late) tags.push(h("span", { class: "tag", text: "Sent after the close" }));
  if (opts.waiting) tags.push(h("span", { class: "tag waiting", text: opts.waiting }));
  const blind = countsBlind(event, table) && n.stage === table.stage;
  const count = !blind && n.votes > 0 ? h("span", { class: "votes", text: plural(n.votes, "vote") }) : null;
  const actions = [];
  const current = n.stage === table.stage;
  if (current && voting() && !opts.pending) {
    const mine = opts.dots?.get(n.id) || 0;
    actions.push(
      h("span", { class: "my-dots", text: mine ? `${"●".repeat(Math.min(mine, 10))} You: ${mine}` : "" }),
      // No dots left: the button says so by being off, not by a refusal after the tap.
      h("button", { type: "button", class: "button small vote", "data-act": "vote", "data-id": n.id, "data-key": `vote:${n.id}`, "aria-label": `Vote for: ${short}`, disabled: opts.left <= 0 || isLocked(), text: "+ Vote" }),
      mine ? h("button", { type: "button", class: "button small", "data-act": "unvote", "data-id": n.id, "data-key": `unvote:${n.id}`, "aria-label": `Take back a vote from: ${short}`, text: "− Take back" }) : null);
  }
  if (n.mine && stageOpen(n) && !opts.deleting) {
    actions.push(
      h("button", { type: "button", class: "button small", "data-act": "edit", "data-id": n.id, "data-key": `edit:${n.id}`, "aria-label": `Edit note: ${short}`, text: "Edit" }),
      h("button", { type: "button", class: "button small", "data-act": "delete", "data-id": n.id, "data-key": `delete:${n.id}`, "aria-label": `Delete note: ${short}`, text: "Delete" }));
  }
  const author = n.mine ? h("strong", { class: "you", text: "You" }) : n.author || "Anonymous";
  // The note's words follow their own direction (Arabic, Hebrew); the page's controls keep theirs.
  return h("li", { class: `note${n.mine ? " mine" : ""}${n.starred ? " starred" : ""}${opts.extra || ""}`, "data-note": n.id },
    tags.length ? h("p", { class: "tags" }, tags) : null,
    h("p", { class: "note-text", dir: "auto", text: n.text }),
    h("p", { class: "note-meta" }, author, " · ", opts.pending ? h("span", { class: "sending", text: live.socket.connected ? "Sending…" : "Not sent yet" }) : when(n),
      n.edited_at ? " · edited" : "", count ? " · " : "", count),
    actions.length ? h("div", { class: "note-actions" }, actions) : null);
}

const when = (n) => h("time", { datetime: new Date(n.at).toISOString(), text: clock(n.at) });
const newest = (a, b) => b.at - a.at || (a.id < b.id ? 1 : -1);

/** The board as this phone should show it: the server's notes with the outbox applied. */
function boardNotes() {
  const notes = new Map(Object.values(S().notes).map((n) => [n.id, { ...n }]));
  const waiting = new Map(); // note id -> words
  for (const q of queue) {
    if (q.op === "post" && !notes.has(q.id)) {
      notes.set(q.id, { id: q.id, text: q.text, category: q.category, at: q.at, stage: q.stage ?? S().table.stage, mine: true, pending: true, votes: null });
    } else if (q.op === "edit" && notes.has(q.id)) {
      Object.assign(notes.get(q.id), { text: q.text, category: q.category });
      waiting.set(q.id, "Edit not sent yet");
    } else if (q.op === "delete" && notes.has(q.id)) {
      notes.get(q.id).deleting = true;
      waiting.set(q.id, "Delete not sent yet");
    }
  }
  return { notes, waiting };
}

function renderNotes() {
  const { event, table, groups, summaries, others } = S();
  const { notes, waiting } = boardNotes();
  const dots = myDots();
  const { left } = votesLeft();
  const current = [];
  const earlier = new Map();
  for (const n of notes.values()) {
    if (n.stage !== table.stage) earlier.set(n.stage, [...(earlier.get(n.stage) || []), n]);
    else if (!n.mine && n.private) continue; // never sent to us; belt and braces
    else current.push(n);
  }
  const item = (n) => noteItem(n, { dots, left, pending: n.pending, deleting: n.deleting, waiting: waiting.get(n.id), extra: n.pending ? " pending" : n.deleting ? " deleting" : "" });
  current.sort((a, b) => (b.pending ? 1 : 0) - (a.pending ? 1 : 0) || newest(a, b));
  const stageGroups = Object.values(groups).filter((g) => g.stage === table.stage && current.some((n) => n.group === g.id));
  let items;
  if (!stageGroups.length) items = current.map(item);
  else {
    items = stageGroups.sort((a, b) => a.label.localeCompare(b.label)).map((g) => {
      const inGroup = current.filter((n) => n.group === g.id);
      return h("li", { class: "group-block" },
        h("h3", { class: "group-label" }, h("span", { class: "eyebrow", text: "Theme" }), g.label, " ", h("span", { class: "count-pill", text: plural(inGroup.length, "note") })),
        h("ul", { class: "notes", "aria-label": `Theme: ${g.label}` }, inGroup.map(item)));
    });
    const loose = current.filter((n) => !n.group || !groups[n.group]);
    if (loose.length) {
      items.push(h("li", { class: "group-block" }, h("h3", { class: "group-label", text: "Not in a theme" }),
        h("ul", { class: "notes", "aria-label": "Not in a theme" }, loose.map(item))));
    }
  }
  keepFocus(() => $("notes").replaceChildren(...items));
  $("notes-empty").hidden = current.length > 0;
  const stepPrivate = stepOf(event, table)?.private && event.status === "live";
  const hidden = others.before + others.live;
  say($("notes-private"), !stepPrivate ? "" :
    !others.known ? "Notes by others are hidden until the facilitator reveals them." :
    hidden ? `${plural(hidden, "note")} by others ${hidden === 1 ? "is" : "are"} hidden until the facilitator reveals them.` :
    "Others' notes stay hidden until the facilitator reveals them.");
  const summary = summaries[table.stage];
  $("summary-box").hidden = !summary;
  $("summary-text").textContent = summary || "";
  const stages = [...new Set([...earlier.keys(), ...Object.keys(summaries).map(Number).filter((x) => x < table.stage)])].sort((a, b) => b - a);
  $("earlier").hidden = !stages.length;
  const count = [...earlier.values()].reduce((a, l) => a + l.length, 0);
  $("earlier-summary").textContent = `Earlier stages (${plural(count, "note")})`;
  // Drawn only while open: a long day's earlier notes cost nothing until someone looks.
  if (!$("earlier").open) return $("earlier-list").replaceChildren();
  $("earlier-list").replaceChildren(...stages.map((st) => h("section", {},
    h("h3", { text: `Stage ${st + 1}: ${event.template.stages[st]?.title || ""}` }),
    summaries[st] ? h("p", { class: "summary-text", dir: "auto" }, h("strong", { text: "Summary: " }), summaries[st]) : null,
    h("ul", { class: "notes", "aria-label": `Notes from stage ${st + 1}` }, (earlier.get(st) || []).sort(newest).map(item)))));
}

$("earlier").addEventListener("toggle", () => S().loaded && renderNotes());

function renderOutbox() {
  const show = queue.length > 0 && (live.status !== "connected" || isLocked());
  $("outbox").hidden = !show;
  if (!show) return;
  const notes = S().notes;
  const about = (id) => { const n = notes[id] || queue.find((q) => q.op === "post" && q.id === id); return n ? `“${snippet(n.text)}”` : "a note"; };
  $("outbox-list").replaceChildren(...queue.map((q) => h("li", { dir: "auto", text:
    q.op === "post" ? `New note: “${snippet(q.text)}”` :
    q.op === "edit" ? `Change a note to: “${snippet(q.text)}”` :
    q.op === "delete" ? `Delete ${about(q.id)}` :
    q.op === "vote" ? `Vote for ${about(q.note)}` : `Take back a vote from ${about(q.note)}` })));
}

// --- the outbox ------------------------------------------------------------------

// As the server counts: what a person sees as one character (👍🏽, é) counts once.
const graphemes = globalThis.Intl?.Segmenter ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;
const chars = (s) => {
  const t = s.trim().normalize("NFC");
  return graphemes ? [...graphemes.segment(t)].length : [...t].length;
};
const maxLength = () => S().event?.template.note_max_length || 280;

function updateCount(field, out) {
  const n = chars(field.value);
  const words = `${n} / ${maxLength()}`;
  if (out.textContent !== words) out.textContent = words;
  out.dataset.over = n > maxLength();
  // Speak up only near the limit: announcing every keystroke would drown a screen reader.
  if (maxLength() - n <= 20) out.setAttribute("aria-live", "polite");
  else out.removeAttribute("aria-live");
}

function enqueue(item) {
  if (item.op === "post" || item.op === "vote") board.dispatch({ type: "own", id: item.id });
  queue.push(item);
  saveQueue();
  afterQueueChange();
  flush();
}

function afterQueueChange() {
  render();
  live.refreshStatus();
}

const drop = (item) => { queue = queue.filter((q) => q !== item); saveQueue(); };

/** Send every waiting item, oldest first, each with the id it got when it was made. */
async function flush() {
  if (flushing || !live.socket.connected || !live.loaded || !S().loaded || isLocked()) return;
  flushing = true;
  clearTimeout(retryTimer);
  while (queue.length && live.socket.connected) {
    const item = queue[0];
    item.inflight = true;
    const r = await send(item);
    item.inflight = false;
    if (r !== "done") {
      if (item.op === "post") item.queued = true; // it waited: whatever the step is by now, it counts
      saveQueue();
      if (r.code === "board_locked") say(error, "The organiser has locked the board for now. What you wrote is kept on this phone and sent when it opens again.");
      else if (r.code !== "offline") retryLater(item, r);
      break;
    }
    drop(item);
    render();
  }
  flushing = false;
  afterQueueChange();
}

function retryLater(item, r) {
  const where = item.op === "post" ? error : item.op === "vote" || item.op === "unvote" ? $("vote-error") : $("notes-error");
  say(where, `${r.message} It is kept on this phone and will be sent again.`);
  clearTimeout(retryTimer);
  retryTimer = setTimeout(flush, 5000);
}

/** One item: "done" (sent, or refused for good and said so), or the transient error. */
async function send(item, tries = 0) {
  const name = { post: "note.post", edit: "note.edit", delete: "note.delete", vote: "vote.add", unvote: "vote.remove" }[item.op];
  const payload = item.op === "post" ? { id: item.id, text: item.text, category: item.category ?? null, ...(item.queued ? { queued: true, stage: item.stage } : {}) } :
    item.op === "edit" ? { id: item.id, text: item.text, category: item.category ?? null } :
    item.op === "vote" ? { id: item.id, note: item.note } : { id: item.id };
  const ack = await live.request(name, payload);
  if (ack.ok) {
    if (item.op === "post" || item.op === "edit") {
      board.dispatch({ type: "note.acked", note: ack.note });
      say(item.op === "post" ? error : $("notes-error"), "");
    } else if (item.op === "delete") board.dispatch({ type: "note.gone", id: item.id });
    else if (item.op === "vote") {
      board.dispatch({ type: "vote.acked", vote: { id: item.id, note: item.note }, votes_left: ack.votes_left });
      say($("vote-error"), "");
    } else if (item.op === "unvote") {
      board.dispatch({ type: "vote.gone", id: item.id });
      say($("vote-error"), "");
    }
    return "done";
  }
  const e = ack.error;
  if (e.code === "id_conflict" && tries < 3 && (item.op === "post" || item.op === "vote")) {
    const old = item.id;
    const fresh = randomHex(16);
    if (item.op === "post") { // what waits on the note follows it to its new id
      for (const q of queue) {
        if (q.op !== "vote" && q.op !== "unvote" && q.id === old) q.id = fresh;
        if (q.note === old) q.note = fresh;
      }
    }
    item.id = fresh;
    board.dispatch({ type: "own", id: fresh });
    saveQueue();
    return send(item, tries + 1);
  }
  if (TRANSIENT.has(e.code)) return e;
  // Refused for good: say so where the person will look, and keep their words.
  if (item.op === "post") {
    text.value = [text.value.trim(), item.text].filter(Boolean).join("\n\n");
    saveDraft();
    say(error, `A note you wrote was not posted: ${e.message} Your words are back in the box.`);
    $("compose-panel").hidden = false;
  } else if (item.op === "vote") {
    if (e.code === "vote_limit") board.dispatch({ type: "vote.limit" });
    say($("vote-error"), e.message);
  } else if (item.op === "unvote") say($("vote-error"), e.message);
  else if (!(item.op === "delete" && e.code === "not_found")) {
    say($("notes-error"), `${item.op === "edit" ? "Your change to a note was not saved" : "Your note was not deleted"}: ${e.message}`);
  }
  return "done";
}

// --- what the person does ----------------------------------------------------------

function chosen(container) {
  return container.querySelector(":checked")?.value || null;
}

/** Checks a note's words; returns a message for the person, or "". */
function problem(value, categoryBox) {
  const n = chars(value);
  if (!n) return "Your note is empty. Write something first.";
  if (n > maxLength()) return `Your note is ${n} characters long; the limit is ${maxLength()}. Shorten it and try again.`;
  const cats = S().event.template.stages[S().table.stage].categories || [];
  if (cats.length && !chosen(categoryBox)) return `Choose a category first: ${cats.map((c) => c.label).join(" or ")}.`;
  return "";
}

function submit() {
  say(error, "");
  if (!S().loaded) return say(error, "Wait a moment: the board is still loading.");
  const why = problem(text.value, $("category-options"));
  if (why) return say(error, why);
  // The reason that matters most first: after the close no step takes notes any more.
  if (closed()) return say(error, "The event has closed, so no more notes can be posted. Your words stay in the box.");
  if (!postingOpen(S().event, S().table)) return say(error, "Posting is closed during this step. Your words stay in the box.");
  if (isLocked()) return say(error, "The organiser has locked the board for now. Your words stay in the box: post them when it opens again.");
  const item = { op: "post", id: randomHex(16), text: text.value.trim(), category: chosen($("category-options")), at: Date.now(), stage: S().table.stage };
  // Written while posting was open but kept on the phone: the server takes it whatever
  // the step by the time it arrives (`queued`), so an offline spell never costs a note.
  if (!live.socket.connected) item.queued = true;
  // Kept on the phone before it is sent: a note the page has shown is never lost.
  text.value = "";
  saveDraft();
  guideRead();
  enqueue(item);
}

const saveDraft = () => store.set(DRAFT, text.value);
const saveDraftSoon = debounce(saveDraft, 300);
text.value = typeof store.get(DRAFT) === "string" ? store.get(DRAFT) : "";

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  submit();
});
// Enter is a new line (phones have no other way to make one); Ctrl/⌘+Enter posts from a
// keyboard, and the Post button always works.
text.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !e.isComposing) {
    e.preventDefault();
    submit();
  }
});
text.addEventListener("input", () => { updateCount(text, $("note-count")); saveDraftSoon(); });
addEventListener("pagehide", saveDraft);
// The shortcut is for keyboards: a touch screen has none to press, so it says nothing.
const keyboardLikely = matchMedia("(hover: hover) and (pointer: fine)").matches && !navigator.maxTouchPoints;
$("note-keys").hidden = !keyboardLikely;
if (!keyboardLikely) text.setAttribute("aria-describedby", "note-count");
if (/Mac|iP/.test(navigator.platform)) $("note-keys").textContent = "⌘+Enter posts";

function editNote(id, value, category) {
  const post = queue.find((q) => q.op === "post" && q.id === id && !q.inflight);
  const edit = queue.find((q) => q.op === "edit" && q.id === id && !q.inflight);
  if (post || edit) {
    Object.assign(post || edit, { text: value, category });
    saveQueue();
    afterQueueChange();
    return flush();
  }
  enqueue({ op: "edit", id, text: value, category });
}

function deleteNote(id) {
  const post = queue.find((q) => q.op === "post" && q.id === id && !q.inflight);
  if (post) { // never sent: forget it, and anything waiting on it
    queue = queue.filter((q) => q === post ? false : !(q.id === id && !q.inflight) && q.note !== id);
    saveQueue();
    return afterQueueChange();
  }
  queue = queue.filter((q) => !(q.op === "edit" && q.id === id && !q.inflight));
  enqueue({ op: "delete", id });
}

function vote(noteId) {
  say($("vote-error"), "");
  guideRead();
  if (isLocked()) return say($("vote-error"), "The organiser has locked the board for now: votes open again when it does.");
  if (votesLeft().left <= 0) {
    const { limit } = votesLeft();
    return say($("vote-error"), `You have used all ${limit} of your votes for this stage. Take one back to vote for something else.`);
  }
  enqueue({ op: "vote", id: randomHex(12), note: noteId });
}

function unvote(noteId) {
  say($("vote-error"), "");
  const waiting = queue.findLast((q) => q.op === "vote" && q.note === noteId && !q.inflight);
  if (waiting) {
    drop(waiting);
    return afterQueueChange();
  }
  const taking = new Set(queue.filter((q) => q.op === "unvote").map((q) => q.id));
  const mine = Object.values(S().myVotes).find((v) => v.note === noteId && !taking.has(v.id));
  if (mine) enqueue({ op: "unvote", id: mine.id, note: noteId });
}

function openEdit(id) {
  const n = boardNotes().notes.get(id);
  if (!n) return;
  editing = id;
  const field = $("edit-text");
  field.value = n.text;
  const cats = S().event.template.stages[n.stage]?.categories || [];
  $("edit-categories").hidden = !cats.length;
  $("edit-category-options").replaceChildren(...categoryChoices(cats, "edit-category", "edit-hint", n.category));
  say($("edit-error"), "");
  updateCount(field, $("edit-count"));
  $("edit-dialog").showModal();
  field.focus();
}

$("edit-text").addEventListener("input", () => updateCount($("edit-text"), $("edit-count")));
$("edit-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const field = $("edit-text");
  const why = problem(field.value, $("edit-category-options"));
  if (why) return say($("edit-error"), why);
  const n = boardNotes().notes.get(editing);
  if (!n || !stageOpen(n)) return say($("edit-error"), "That stage has closed, so its notes can no longer be changed.");
  const value = field.value.trim();
  const category = chosen($("edit-category-options"));
  const id = editing;
  $("edit-dialog").close();
  if (value !== n.text || category !== (n.category ?? null)) editNote(id, value, category);
});
$("edit-cancel").addEventListener("click", () => $("edit-dialog").close());

function openDelete(id) {
  const n = boardNotes().notes.get(id);
  if (!n) return;
  deleting = id;
  $("delete-quote").textContent = n.text;
  $("delete-dialog").showModal();
  $("delete-cancel").focus();
}

$("delete-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const id = deleting;
  $("delete-dialog").close();
  deleteNote(id);
});
$("delete-cancel").addEventListener("click", () => $("delete-dialog").close());

let returnTo = null;
for (const d of [$("edit-dialog"), $("delete-dialog")]) {
  d.addEventListener("close", () => {
    const key = returnTo;
    returnTo = null;
    // Back to the button that opened it (the list may have been redrawn meanwhile).
    const back = key && document.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (back) back.focus();
    else if (key) $("notes-heading").focus(); // the note went away with its buttons
    editing = deleting = null;
  });
}

$("notes").parentElement.addEventListener("click", (e) => {
  const b = e.target.closest("button[data-act]");
  if (!b || !S().loaded) return;
  const id = b.dataset.id;
  returnTo = b.dataset.key;
  ({ vote, unvote, edit: openEdit, delete: openDelete })[b.dataset.act]?.(id);
});

function saveName(e) {
  e?.preventDefault();
  const name = nameInput.value = nameInput.value.replace(/\s+/g, " ").trim().slice(0, 40);
  if (name === savedName || !live) return;
  store.set("plenary:name", savedName = name);
  $("name-help").textContent = name ? `Saved. Notes you post from now on show “${name}”.` : "Saved. Notes you post from now on are anonymous.";
  live.setAuth({ name: name || null });
}
$("name-form").addEventListener("submit", saveName);
nameInput.addEventListener("change", saveName);

start();
