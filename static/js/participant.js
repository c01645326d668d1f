// A participant's phone: one table's board, and a composer that never loses a note.
import { $, clock, connectLive, h, isPrivate, plural, postingOpen, randomHex, say, store } from "./live.js";

const code = decodeURIComponent(location.pathname.split("/j/")[1] || "").replace(/[\s-]/g, "").toUpperCase();
const QUEUE = `plenary:pending:${code}`;
// Worth sending again later, with the same id; any other refusal is the server saying no.
const TRANSIENT = new Set(["offline", "timeout", "server_error", "storage_full", "rate_limited"]);
const text = $("note-text");
const count = $("note-count");
const error = $("compose-error");
const nameInput = $("name");

let keyHex = store.get(`plenary:key:${code}`);
if (!/^[0-9a-f]{32,128}$/.test(keyHex)) store.set(`plenary:key:${code}`, keyHex = randomHex(16));
let pending = Array.isArray(store.get(QUEUE)) ? store.get(QUEUE) : [];
const myIds = new Set(pending.map((p) => p.id));
let savedName = nameInput.value = String(store.get("plenary:name") || "").slice(0, 40);
let catStage = -1;
let retryTimer = 0;
let flushing = false;
const seen = new Set();
let painted = false;

function fatal(message) {
  say($("fatal-message"), message);
  $("fatal").hidden = false;
  $("main").hidden = true;
  $("status").textContent = "Not connected";
}

const live = code && connectLive({
  scope: "table",
  auth: { join_code: code, participant_key: Uint8Array.from(keyHex.match(/../g), (x) => parseInt(x, 16)), name: savedName || null },
  isMine: (n) => myIds.has(n.id),
  pending: () => pending.length,
  onSnapshot: render,
  onChange: render,
  onSynced: flush,
  onFatal: (err) => (err.code === "abuse" || err.code === "kicked" ? say(error, err.message) : fatal(err.message)),
});
if (!live) fatal("This link has no table code in it. Enter the code from your table's card.");

function render() {
  const { event, table } = live.state;
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
  $("stage-count").textContent = `Stage ${table.stage + 1} of ${stages.length}`;
  $("stage-title").textContent = stage.title;
  say($("stage-prompt"), stage.prompt);
  $("step-title").textContent = step.title;
  say($("step-instructions"), step.instructions);
  const open = postingOpen(event, table);
  $("posting").dataset.open = open;
  $("posting").textContent =
    event.status === "draft" ? "Not started yet: you can post once the organiser starts the event." :
    event.status === "closed" ? "The event has closed. Thank you for taking part." :
    !open ? "Posting is closed during this step." :
    step.private ? "Posting is open. Your notes stay private until they are revealed." : "Posting is open.";
  if (!event.template.show_author_names) $("name-help").textContent = "Names are not shown at this event: every note is anonymous.";
  if (catStage !== table.stage) {
    catStage = table.stage;
    const cats = stage.categories || [];
    $("categories").hidden = !cats.length;
    // Each radio is named by its label alone; the hint describes it.
    $("category-options").replaceChildren(...cats.map((c, i) => h("label", { class: "choice" },
      h("input", { type: "radio", name: "category", value: c.id, "aria-label": c.label, "aria-describedby": c.hint && `hint-${i}` }),
      h("span", { class: "choice-text" }, h("strong", { text: c.label }), c.hint && h("small", { id: `hint-${i}`, text: c.hint })))));
  }
  updateCount();
  renderNotes();
}

function noteItem(n, meta, extra = "") {
  if (painted && !seen.has(n.id)) extra += " fresh";
  seen.add(n.id);
  const cat = n.category && live.state.event.template.stages[n.stage]?.categories?.find((c) => c.id === n.category);
  return h("li", { class: `note${n.mine ? " mine" : ""}${extra}`, dir: "auto" },
    cat && h("span", { class: "tag", text: cat.label }),
    h("p", { class: "note-text", text: n.text }),
    h("p", { class: "note-meta" }, n.mine ? h("strong", { class: "you", text: "You" }) : n.author || "Anonymous", " · ", meta));
}

const when = (n) => h("time", { datetime: new Date(n.at).toISOString(), text: clock(n.at) });
const newest = (a, b) => b.at - a.at || (a.id < b.id ? 1 : -1);

function renderNotes() {
  const { event, table, notes } = live.state;
  const current = [];
  const earlier = new Map();
  let hidden = 0;
  for (const n of notes.values()) {
    if (n.stage !== table.stage) earlier.set(n.stage, [...(earlier.get(n.stage) || []), n]);
    else if (!n.mine && isPrivate(event, table, n)) hidden++;
    else current.push(n);
  }
  const items = pending.filter((p) => !notes.has(p.id)).reverse()
    .map((p) => noteItem({ ...p, mine: true, stage: table.stage }, h("span", { class: "sending", text: "Sending…" }), " pending"))
    .concat(current.sort(newest).map((n) => noteItem(n, when(n))));
  $("notes").replaceChildren(...items);
  $("notes-empty").hidden = items.length > 0;
  say($("notes-private"), hidden ? `${plural(hidden, "note")} by others ${hidden === 1 ? "is" : "are"} hidden until the facilitator reveals them.` : "");
  const stages = [...earlier.keys()].sort((a, b) => b - a);
  $("earlier").hidden = !stages.length;
  $("earlier-summary").textContent = `Earlier stages (${plural(notes.size - current.length - hidden, "note")})`;
  $("earlier-list").replaceChildren(...stages.map((s) => h("section", {},
    h("h3", { text: `Stage ${s + 1}: ${event.template.stages[s]?.title || ""}` }),
    h("ul", { class: "notes", "aria-label": `Notes from stage ${s + 1}` }, earlier.get(s).sort(newest).map((n) => noteItem(n, when(n)))))));
  painted = true;
}

const chars = (s) => [...s.trim().normalize("NFC")].length; // as the server counts
const maxLength = () => live?.state.event?.template.note_max_length || 280;

function updateCount() {
  const n = chars(text.value);
  count.textContent = `${n} / ${maxLength()}`;
  count.dataset.over = n > maxLength();
  // Speak up only near the limit: announcing every keystroke would drown a screen reader.
  if (maxLength() - n <= 20) count.setAttribute("aria-live", "polite");
  else count.removeAttribute("aria-live");
}

const dequeue = (id) => store.set(QUEUE, pending = pending.filter((p) => p.id !== id));

async function send(item, tries = 0) {
  const ack = await live.request("note.post", { id: item.id, text: item.text, category: item.category });
  if (ack.ok) {
    dequeue(item.id);
    if (!live.state.notes.has(ack.note.id)) live.state.notes.set(ack.note.id, { ...ack.note, mine: true });
    return ack;
  }
  if (ack.error.code === "id_conflict" && tries < 3) {
    myIds.add(item.id = randomHex(16));
    store.set(QUEUE, pending);
    return send(item, tries + 1);
  }
  if (!TRANSIENT.has(ack.error.code)) dequeue(item.id);
  return ack.error;
}

/** Send every waiting note, oldest first, each with the id it got when it was written. */
async function flush() {
  if (flushing || !live.socket.connected) return;
  flushing = true;
  for (const item of [...pending]) {
    const r = await send(item);
    if (r.ok) continue;
    if (TRANSIENT.has(r.code)) {
      if (r.code !== "offline") retryLater(r);
      break;
    }
    // Refused for good (posting closed meanwhile, say): give the text back to its writer.
    text.value = [text.value.trim(), item.text].filter(Boolean).join("\n\n");
    say(error, `A note you wrote earlier was not posted: ${r.message} It is back in the box.`);
  }
  flushing = false;
  render();
  live.refreshStatus();
}

function retryLater(r) {
  say(error, `${r.message} Your note is saved on this phone and will be sent again.`);
  clearTimeout(retryTimer);
  retryTimer = setTimeout(flush, 5000);
}

async function submit() {
  say(error, "");
  if (!live?.state.loaded) return say(error, "Wait a moment: the board is still loading.");
  const n = chars(text.value);
  if (!n) return say(error, "Your note is empty. Write something first.");
  if (n > maxLength()) return say(error, `Your note is ${n} characters long; the limit is ${maxLength()}. Shorten it and post again.`);
  const cats = live.state.event.template.stages[live.state.table.stage].categories || [];
  const category = $("category-options").querySelector(":checked")?.value || null;
  if (cats.length && !category) return say(error, `Choose a category first: ${cats.map((c) => c.label).join(" or ")}.`);
  const item = { id: randomHex(16), text: text.value.trim(), category, at: Date.now() };
  // Kept on the phone before it is sent: a note the page has shown is never lost.
  pending.push(item);
  myIds.add(item.id);
  store.set(QUEUE, pending);
  let r = { code: "offline" };
  if (live.socket.connected) {
    $("post").disabled = true;
    render();
    r = await send(item);
    $("post").disabled = false;
  }
  // Kept on the phone, or posted: either way the box is free for the next note.
  if (r.ok || TRANSIENT.has(r.code)) {
    text.value = "";
    if (!r.ok && r.code !== "offline") retryLater(r);
  } else say(error, r.message);
  render();
  live.refreshStatus();
}

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  submit();
});
text.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    submit();
  }
});
text.addEventListener("input", updateCount);
if (/Mac|iP/.test(navigator.platform)) $("note-keys").textContent = "⌘+Enter posts";

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
