// The plenary dashboard: the room's view of every table, on a projector at 1920x1080 or
// 1280x720. Large type, no scrolling, nothing only on hover. Tiles are laid out from the
// size of the screen: the type shrinks to a readable minimum first, then the tables are
// shown a page at a time (by topic), turning every few seconds. Nothing is ever cut off.
//
// The overview is state, changed only by reduceOverview (overview-state.js); this page
// only draws it, and draws every part of it from the state (the message, the timer, the
// spotlight and the locks too), so a screen opened late shows what one open all day does.
import { $, linkToken, h, say } from "./dom.js";
import { mmss, plural, topicKey } from "./rules.js";
import { watchEvent } from "./event-view.js";
import { recordTotal } from "./overview-state.js";
import * as themesView from "./themes-view.js";

const token = linkToken("dashboard"); // read once: the link's key never stays on screen
const PAGE_MS = 12000; // how long each page of tables stays up
const TILE_W = 12.5; // em: the least a tile needs (number, note count, step and its bar)
const TILE_H = 5.9;
const BLOCK_W = 22; // em: a topic's block is at least this wide, so its heading can be read
const TOPIC_H = 2.8; // em: two lines of topic when the tile carries its topic itself
const MIN_VH = 0.016; // the smallest type: 1.6% of the screen's height (17 px at 1080, 12 px at 720)
const MAX_VH = 0.026; // larger tile type only takes room from the notes
const TICKER_NOTES = 4;
const NOTE_VH = 0.0225; // notes' least type: 24 px at 1080 lines (dashboard.css .idea-text)
// Room for notes under a tile's essentials, in lines of notes: a tile that cannot show one
// at a readable size is no use from the back of the hall, so the tables go on more pages.
const ROOM_SOME = 3;
const ROOM_LOTS = 6;

/** A note's line height in px when the tile type is f px. */
const noteLine = (f) => 1.25 * Math.max(f, NOTE_VH * innerHeight);

let live = null;
let pages = []; // [{groups: [{key, title, part, parts, tables: [ids]}], f, plan}]
let pageIndex = 0;
let pageTimer = 0;
let layoutKey = "";
const tiles = new Map(); // table id -> tile element on the current page
const dirty = new Set();
let frame = 0;
let tickerDue = false;

function fatal(message) {
  say($("fatal-message"), message);
  $("fatal").hidden = false;
  $("status").textContent = "Not connected";
  $("main").hidden = true;
}

if (token) {
  live = watchEvent({
    auth: { token },
    onAction(state, a) {
      if (a.type === "snapshot") {
        renderHead(); renderMessage(); relayout(true); renderOverlays(); tick(); tickerDue = true; schedule();
      } else if (a.type === "change") onChange(a.change);
      else if (a.type === "event" && state.loaded) {
        renderHead(); renderMessage(); renderOverlays(); tick();
        for (const id of tiles.keys()) dirty.add(id); // a lock changes tiles
        schedule();
      }
    },
    onFatal: (err) => { if (err.code !== "abuse" && err.code !== "kicked") fatal(err.message); },
  });
} else {
  fatal("This link is missing its key (the part after #). Open the full dashboard link again.");
}

function onChange(c) {
      // Every table's stage change arrives on its own: draw the head once, on the next frame.
      if (c.type === "stage.changed" || c.type === "event.status") headDue = true;
      if (c.type === "note.added" || c.type === "notes.revealed" || c.type === "note.deleted"
          || c.type === "note.hidden" || c.type === "note.shown" || c.type === "note.merged") tickerDue = true;
      dirty.add(c.table);
      if (!$("spotlight").hidden) spotDue = true;
      schedule();
}

let spotDue = false;
let headDue = false;

/** Coalesce every change of a burst into one repaint per frame. */
function schedule() {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    if (headDue) {
      headDue = false;
      const before = $("stage-title").textContent;
      renderHead();
      renderOverlays();
      if ($("stage-title").textContent !== before) {
        $("announce").textContent = `${$("stage-count").textContent}: ${$("stage-title").textContent}`;
      }
    }
    for (const id of dirty) {
      const tile = tiles.get(id);
      if (tile) fillTile(live.state.tables[id], tile, true);
    }
    if (dirty.size) updateGroupHeads();
    dirty.clear();
    if (tickerDue) { tickerDue = false; renderTicker(); }
    if (spotDue) { spotDue = false; renderSpotlight(); }
  });
}

// --- the head: event, stage, prompt, timer, message -------------------------------------

function renderHead() {
  const { event } = live.state;
  const stages = event.template.stages;
  const stage = stages[event.stage];
  document.title = `${event.title} — dashboard`;
  $("event-title").textContent = event.title;
  $("stage-count").textContent = `Stage ${event.stage + 1} of ${stages.length}`;
  $("stage-title").textContent = stage?.title || "";
  say($("stage-prompt"), stage?.prompt);
  const banner = $("event-status");
  const was = banner.hidden;
  say(banner, event.status === "draft" ? "Starting soon" : "");
  banner.dataset.status = event.status;
  if (was !== banner.hidden) relayout();
}

function renderMessage() {
  const el = $("message");
  const text = live.state.event.message || "";
  if (el.textContent === text && el.hidden === !text) return;
  say(el, text);
  if (text) $("announce").textContent = text;
  relayout();
}

function tick() {
  if (!live?.state.loaded) return;
  const box = $("timer");
  const ms = live.remaining();
  const tm = live.state.event.timer;
  if (ms == null) { box.hidden = true; return; }
  box.hidden = false;
  const value = mmss(ms);
  if ($("timer-value").textContent !== value) $("timer-value").textContent = value;
  const st = tm.state === "paused" ? "paused" : ms <= 0 ? "up" : ms <= 60000 ? "ending" : "running";
  box.dataset.state = st;
  const label = st === "paused" ? "Paused" : st === "up" ? "Time is up" : "left in this stage";
  if ($("timer-label").textContent !== label) $("timer-label").textContent = label;
}
setInterval(tick, 250);

// --- laying out the tiles ------------------------------------------------------------------

/** Tables grouped by topic, topics in their order, tables by number. */
function topicGroups() {
  const groups = new Map();
  const sorted = live.tables().sort((a, b) => a.number - b.number);
  for (const t of sorted) {
    const key = topicKey(t);
    if (!groups.has(key)) groups.set(key, { key, title: t.topic?.title || "No topic", position: t.topic?.position, tables: [] });
    groups.get(key).tables.push(t.id);
  }
  return [...groups.values()].sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
}

function sizes(f, lines = 1) {
  return { gap: Math.max(6, Math.round(f * 0.55)), groupGap: Math.max(10, Math.round(f * 0.9)),
    head: Math.ceil(f * (0.55 + 1.45 * lines)) };
}

/** Lines a topic's heading needs in a block bw px wide (at most 2; then it is clamped).
 *  Counted generously (wide letters, the count beside it): a heading given one line that
 *  needs two is cut mid-phrase, one given two that needs one only costs a little room. */
function headLines(titles, bw, f) {
  const longest = Math.max(...titles.map((t) => t.length));
  const perLine = Math.max(1, (bw - 11 * f) / (0.62 * 1.2 * f));
  return longest > perLine * 0.85 ? 2 : 1;
}

/**
 * Whether groups of these sizes fit in W x H with type of f px, and how: blocks (one per
 * group) in bc columns, each with a heading and its tiles in tc columns. Returns the plan
 * that leaves the tiles the most room, or null.
 */
function fit(counts, f, W, H, flat, titles = [], extra = 0) {
  const { gap, groupGap } = sizes(f);
  const minW = TILE_W * f;
  const minH = (flat ? TILE_H + TOPIC_H : TILE_H) * f + extra * noteLine(f);
  const G = counts.length;
  const kmax = Math.max(...counts);
  let best = null;
  for (let bc = 1; bc <= G; bc++) {
    const br = Math.ceil(G / bc);
    const gg = flat ? gap : groupGap;
    const bw = Math.floor((W - (bc - 1) * gg) / bc);
    const bh = Math.floor((H - (br - 1) * gg) / br);
    if (bw < minW || (!flat && bw < BLOCK_W * f)) break;
    const head = flat ? 0 : sizes(f, headLines(titles, bw, f)).head;
    const hh = flat ? 0 : head + gap;
    if (bh - hh < minH) continue;
    for (let tc = 1; tc <= kmax; tc++) {
      const tr = Math.ceil(kmax / tc);
      const tw = Math.floor((bw - (tc - 1) * gap) / tc);
      if (tw < minW) break;
      const th = Math.floor((bh - hh - (tr - 1) * gap) / tr);
      if (th < minH) continue;
      const score = Math.min(tw / minW, th / minH) - (Math.ceil(G / bc) * bc - G) * 0.001;
      if (!best || score > best.score) best = { score, bc, br, bw, bh, tc, tr, tw, th, gg, gap, hh, head, f, flat };
    }
  }
  return best;
}

/** The largest type (within limits) at which these groups fit, and its plan. */
function bestFit(groups, W, H, flat, fMin, fMax, least = 0) {
  const counts = groups.map((g) => g.tables.length);
  const titles = groups.map((g) => g.title);
  // Large type first, but not so large that a tile has no room left for the ideas:
  // try with room for a few ideas, then for one (paginate() splits the tables when even
  // that fails; none only on a screen too small for a single tile with a note).
  for (const extra of [ROOM_LOTS, ROOM_SOME, 0].filter((x) => x >= least)) {
    const at = (f) => fit(counts, f, W, H, flat, titles, extra);
    if (!at(fMin)) continue;
    if (at(fMax)) return at(fMax);
    let lo = fMin;
    let hi = fMax;
    for (let i = 0; i < 12; i++) {
      const mid = (lo + hi) / 2;
      if (at(mid)) lo = mid; else hi = mid;
    }
    return at(Math.floor(lo * 4) / 4) || at(fMin);
  }
  return null;
}

function paginate() {
  const area = $("area");
  const W = area.clientWidth;
  const H = area.clientHeight;
  const vh = innerHeight;
  const fMin = Math.max(11, Math.round(vh * MIN_VH * 4) / 4);
  const fMax = Math.max(fMin, Math.round(vh * MAX_VH));
  const groups = topicGroups();
  if (!groups.length || W < 50 || H < 50) return [];
  const flat = groups.every((g) => g.tables.length === 1);
  // Room for notes on every tile is worth more pages, up to twice as many: past that (a
  // conference of hundreds of tables) the pages would take minutes to come round again,
  // and tiles show their counts and steps only.
  const roomy = pagesFor(groups, W, H, flat, fMin, fMax, ROOM_SOME);
  if (roomy.length <= 2) return roomy;
  const bare = pagesFor(groups, W, H, flat, fMin, fMax, 0);
  return roomy.length <= 2 * bare.length ? roomy : bare;
}

/** The pages that show these groups with at least `room` lines of notes in every tile. */
function pagesFor(groups, W, H, flat, fMin, fMax, room) {
  const one = bestFit(groups, W, H, flat, fMin, fMax, room);
  if (one) return [{ groups: groups.map((g) => ({ ...g, part: 1, parts: 1 })), plan: one }];

  // Too many to show at once: split big topics into parts that fit a screen, then fill
  // each page with as many whole parts as fit.
  const chunks = [];
  for (const g of groups) {
    let lo = 1;
    let hi = g.tables.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (fit([mid], fMin, W, H, flat, [g.title], room)) lo = mid; else hi = mid - 1;
    }
    const parts = Math.ceil(g.tables.length / lo);
    const per = Math.ceil(g.tables.length / parts);
    for (let p = 0; p < parts; p++) {
      chunks.push({ ...g, part: p + 1, parts, tables: g.tables.slice(p * per, (p + 1) * per) });
    }
  }
  const out = [];
  let current = [];
  for (const c of chunks) {
    const trial = [...current, c];
    if (current.length && !fit(trial.map((x) => x.tables.length), fMin, W, H, flat, trial.map((x) => x.title), room)) {
      out.push(current);
      current = [c];
    } else current = trial;
  }
  if (current.length) out.push(current);
  return out.map((gs) => ({ groups: gs, plan: bestFit(gs, W, H, flat, fMin, fMax, room) || bestFit(gs, W, H, flat, fMin, fMax) }));
}

/** Work the pages out again (new tables, a resized window, a banner that came or went). */
function relayout(force) {
  if (!live?.state.loaded) return;
  const area = $("area");
  const key = [area.clientWidth, area.clientHeight, innerHeight,
    ...live.tables().map((t) => `${t.id}:${topicKey(t)}`)].join("|");
  if (!force && key === layoutKey) return;
  layoutKey = key;
  const firstTable = pages[pageIndex]?.groups[0]?.tables[0];
  pages = paginate();
  // Stay on the page that shows the same tables, if there is one.
  const again = pages.findIndex((p) => p.groups.some((g) => g.tables.includes(firstTable)));
  pageIndex = again >= 0 ? again : Math.min(pageIndex, Math.max(0, pages.length - 1));
  showPage();
  clearInterval(pageTimer);
  if (pages.length > 1) pageTimer = setInterval(() => { pageIndex = (pageIndex + 1) % pages.length; showPage(); }, PAGE_MS);
}

function place(el, x, y, w, hgt) {
  el.style.left = `${x}px`;
  el.style.top = `${y}px`;
  el.style.width = `${w}px`;
  el.style.height = `${hgt}px`;
}

function showPage() {
  const page = pages[pageIndex];
  const box = $("groups");
  tiles.clear();
  if (!page) { box.replaceChildren(); say($("page-info"), ""); return; }
  const p = page.plan;
  box.style.fontSize = `${p.f}px`;
  box.dataset.flat = p.flat ? "true" : "false";
  // How much a tile can show besides the essentials.
  const roomy = (p.th - (p.flat ? TILE_H + TOPIC_H : TILE_H) * p.f) / noteLine(p.f);
  box.dataset.room = roomy >= ROOM_LOTS ? "lots" : roomy >= ROOM_SOME - 0.01 ? "some" : "none";
  const blocks = page.groups.map((g, i) => {
    const col = i % p.bc;
    const row = Math.floor(i / p.bc);
    const block = h("section", { class: "group", "data-topic": g.key, "aria-label": g.title });
    place(block, col * (p.bw + p.gg), row * (p.bh + p.gg), p.bw, p.bh);
    if (!p.flat) {
      const head = h("h2", { class: "group-head" },
        h("span", { class: "group-title", dir: "auto", text: g.title }),
        h("span", { class: "group-meta" },
          h("span", { class: "group-part", text: g.parts > 1 ? `part ${g.part} of ${g.parts}` : "" }),
          h("span", { class: "group-count" })));
      place(head, 0, 0, p.bw, p.head);
      block.append(head);
    }
    const list = h("ul", { class: "tiles", "aria-label": `Tables on ${g.title}` });
    g.tables.forEach((id, j) => {
      const t = live.state.tables[id];
      const tile = makeTile(t, p.flat);
      place(tile, (j % p.tc) * (p.tw + p.gap), p.hh + Math.floor(j / p.tc) * (p.th + p.gap), p.tw, p.th);
      tiles.set(id, tile);
      list.append(tile);
    });
    block.append(list);
    return block;
  });
  box.replaceChildren(...blocks);
  for (const [id, tile] of tiles) fillTile(live.state.tables[id], tile, false);
  updateGroupHeads();
  const topics = page.groups.map((g) => g.title + (g.parts > 1 ? ` (part ${g.part} of ${g.parts})` : ""));
  say($("page-info"), pages.length > 1 ? `Page ${pageIndex + 1} of ${pages.length}` : "");
  $("page-info").title = topics.join("; ");
}

function makeTile(t, flat) {
  return h("li", { class: "tile", "data-table": t.id },
    h("div", { class: "tile-top" },
      // Under the stage's h1: an h2 per tile, or an h3 under its topic's h2.
      h(flat ? "h2" : "h3", { class: "tile-number" }, h("span", { class: "tile-word", text: "Table " }), String(t.number)),
      h("p", { class: "tile-flags" },
        h("span", { class: "tile-ready", hidden: true, text: "Ready" }),
        h("span", { class: "tile-lock", hidden: true, text: "Locked" }))),
    flat ? h("p", { class: "tile-topic", dir: "auto", text: t.topic?.title || "No topic" }) : null,
    h("div", { class: "tile-stats" },
      h("p", { class: "tile-count" }, h("span", { class: "big" }), h("span", { class: "unit" })),
      h("p", { class: "tile-step" })),
    h("div", { class: "bar", "aria-hidden": "true" }, h("div", { class: "bar-fill" })),
    h("p", { class: "tile-step-title" }),
    h("div", { class: "tile-more" },
      h("p", { class: "tile-summary", dir: "auto", hidden: true }),
      h("p", { class: "tile-ideas-label", hidden: true }),
      h("ul", { class: "tile-ideas" })));
}

function fillTile(t, tile, flash) {
  if (!t) return;
  const { event } = live.state;
  const stages = event.template.stages;
  const stage = stages[t.stage];
  const count = t.notes?.[t.stage] || 0;
  tile.querySelector(".big").textContent = count;
  tile.querySelector(".unit").textContent = count === 1 ? " note" : " notes";
  tile.querySelector(".tile-ready").hidden = !t.ready;
  tile.querySelector(".tile-lock").hidden = !live.locked(t);
  const steps = stage?.steps.length || 1;
  const behind = t.stage !== event.stage ? `Stage ${t.stage + 1} · ` : "";
  tile.querySelector(".tile-step").textContent = `${behind}Step ${t.step + 1} of ${steps}`;
  const room = $("groups").dataset.room;
  say(tile.querySelector(".tile-step-title"), room !== "none" ? stage?.steps[t.step]?.title : "");
  tile.querySelector(".bar-fill").style.width = `${Math.round(((t.step + 1) / steps) * 100)}%`;
  tile.classList.toggle("ready", !!t.ready);
  tile.classList.toggle("behind", t.stage !== event.stage);
  if (room !== "none") fillIdeas(t, tile);
  if (flash && matchMedia("(prefers-reduced-motion: no-preference)").matches) {
    tile.classList.remove("pulse");
    void tile.offsetWidth; // restart the animation
    tile.classList.add("pulse");
  }
}

function ideaItem(n, big) {
  const meta = [];
  if (n.starred) meta.push("★ Big idea");
  if (n.votes != null && n.votes > 0) meta.push(plural(n.votes, "vote"));
  return h("li", { class: `idea${n.starred ? " starred" : ""}` },
    h("span", { class: big ? "idea-text big-text" : "idea-text", dir: "auto", text: n.text }),
    meta.length ? h("span", { class: "idea-meta", text: meta.join(" · ") }) : null);
}

/** As many notes as the tile has room for: its top ideas first, then the latest others. */
function fillIdeas(t, tile) {
  const top = live.top(t.id);
  const picked = new Set(top.map((n) => n.id));
  const list = [...top, ...live.latest(t.id).filter((n) => !picked.has(n.id))];
  const label = tile.querySelector(".tile-ideas-label");
  // Only a tile with top ideas needs to say so; latest notes are what a tile shows anyway.
  say(label, top.length ? "Top ideas" : "");
  const summary = live.summary(t.id);
  const sum = tile.querySelector(".tile-summary");
  say(sum, summary ? `Summary: ${summary}` : "");
  const ul = tile.querySelector(".tile-ideas");
  ul.replaceChildren(...list.slice(0, 12).map((n) => ideaItem(n)));
  fitList(tile.querySelector(".tile-more"), ul, label);
}

/** Show the ideas that fit whole in their tile, in order, skipping one too tall for the
 *  room left so that a shorter one after it still shows: never half a note, never a gap. */
function fitList(box, list, label) {
  for (const li of list.children) li.hidden = true;
  label.hidden = !label.textContent;
  const bottom = box.getBoundingClientRect().bottom + 0.5;
  for (const li of list.children) {
    li.hidden = false;
    if (li.getBoundingClientRect().bottom > bottom) li.hidden = true;
  }
  if (!label.hidden && ![...list.children].some((li) => !li.hidden)) label.hidden = true;
}

function updateGroupHeads() {
  for (const block of $("groups").children) {
    const counter = block.querySelector(".group-count");
    if (!counter) continue;
    let notes = 0;
    let n = 0;
    for (const t of live.tables()) {
      if (String(topicKey(t)) !== block.dataset.topic) continue; // data-* attributes are strings
      n++;
      notes += t.notes?.[t.stage] || 0;
    }
    counter.textContent = `${plural(n, "table")} · ${plural(notes, "note")}`;
  }
}

let resizeTimer = 0;
addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => { relayout(); renderOverlays(); }, 150);
});
// The room for tiles changes when a banner, the message or the ticker comes or goes.
new ResizeObserver(() => relayout()).observe($("area"));

// --- the ticker of new notes ------------------------------------------------------------

function renderTicker() {
  const { state } = live;
  const notes = state.ticker.map((id) => state.notes[id]).filter((n) => n && !n.private && !n.hidden);
  const box = $("ticker");
  box.hidden = !notes.length;
  const ul = $("ticker-list");
  ul.replaceChildren(...notes.slice(0, TICKER_NOTES).map((n) => {
    const t = state.tables[n.table];
    return h("li", { class: "tick" },
      h("span", { class: "tick-text", dir: "auto", text: n.text }),
      h("span", { class: "tick-table", text: t ? `Table ${t.number}` : "" }));
  }));
  // Whole items only: an item that does not fit the line is left out.
  const right = ul.getBoundingClientRect().right + 0.5;
  let over = false;
  for (const li of ul.children) {
    over ||= li.getBoundingClientRect().right > right;
    li.hidden = over;
  }
}

// --- spotlight and closing ------------------------------------------------------------------

function renderOverlays() {
  if (!live?.state.loaded) return;
  renderSpotlight();
  const { event } = live.state;
  const closing = $("closing");
  const show = event.status === "closed" && !event.spotlight;
  closing.hidden = !show;
  if (show) renderClosing();
}

function topicTables(id) {
  return live.tables()
    .filter((t) => topicKey(t) === id || t.topic?.id === id || t.topic_id === id || `title:${t.topic?.title}` === id)
    .sort((a, b) => a.number - b.number);
}

function renderSpotlight() {
  const sp = live.state.event.spotlight;
  const box = $("spotlight");
  // "What the room is saying": the cross-table themes have a view of their own.
  if (themesView.shows(sp)) { box.hidden = true; themesView.show(sp, live.state.event, token); return; }
  themesView.hide();
  if (!sp || !sp.kind) { box.hidden = true; return; }
  const { state } = live;
  const body = $("spot-body");
  const kicker = $("spot-kicker");
  const title = $("spot-title");
  box.dataset.kind = sp.kind;
  box.hidden = false;
  title.className = "spot-title";
  if (sp.kind === "note") {
    const n = state.notes[sp.id] || (sp.note?.id === sp.id ? sp.note : null);
    const t = n ? state.tables[n.table] : null;
    kicker.textContent = t ? `Table ${t.number} · ${t.topic?.title || ""}` : "Spotlight";
    if (!n) {
      title.textContent = "…";
      live.sync(); // a note this screen has not seen yet
      body.replaceChildren();
      return;
    }
    title.textContent = n.text;
    title.className = "spot-title spot-note";
    title.dir = "auto";
    const meta = [];
    if (n.starred) meta.push("★ Big idea");
    if (n.votes != null && n.votes > 0) meta.push(plural(n.votes, "vote"));
    if (n.author) meta.push(`by ${n.author}`);
    body.replaceChildren(meta.length ? h("p", { class: "spot-meta", text: meta.join(" · ") }) : "");
    fitText(title, 0.14, 0.045);
    return;
  }
  if (sp.kind === "table") {
    const t = state.tables[sp.id];
    if (!t) { box.hidden = true; return; }
    kicker.textContent = `Table ${t.number}`;
    title.textContent = t.topic?.title || `Table ${t.number}`;
    body.replaceChildren(...tableDetail(t));
    fitText(title, 0.075, 0.04);
    return;
  }
  // A topic: its tables and the best ideas among them.
  const list = topicTables(sp.id);
  kicker.textContent = list.length ? `Topic · ${plural(list.length, "table")}` : "Topic";
  title.textContent = list[0]?.topic?.title || "Topic";
  const top = list.flatMap((t) => live.top(t.id))
    .sort((a, b) => (b.starred - a.starred) || ((b.votes || 0) - (a.votes || 0)));
  // Nothing starred or voted for yet: the topic's latest notes, so the screen is not bare.
  const ideas = top.length ? top : list.flatMap((t) => live.latest(t.id)).sort((a, b) => b.at - a.at);
  const summaries = list.map((t) => [t, live.summary(t.id)]).filter(([, s]) => s);
  body.replaceChildren(
    h("ul", { class: "spot-tables" }, list.map((t) => h("li", {},
      h("strong", { text: `Table ${t.number}` }),
      ` ${plural(t.notes?.[t.stage] || 0, "note")} · ${stepLine(t)}${t.ready ? " · ✓ Ready" : ""}`))),
    ideas.length ? h("h3", { class: "spot-sub", text: top.length ? "Top ideas" : "Latest notes" }) : "",
    h("ul", { class: "spot-ideas" }, ideas.slice(0, 6).map((n) => ideaItem(n, true))),
    summaries.length ? h("h3", { class: "spot-sub", text: "Summaries" }) : "",
    ...summaries.slice(0, 4).map(([t, s]) => h("p", { class: "spot-summary", dir: "auto", text: `Table ${t.number}: ${s}` })));
  fitText(title, 0.075, 0.04);
  fitBody(body);
}

function stepLine(t) {
  const stage = live.state.event.template.stages[t.stage];
  return `Step ${t.step + 1} of ${stage?.steps.length || 1}${stage?.steps[t.step] ? `: ${stage.steps[t.step].title}` : ""}`;
}

function tableDetail(t) {
  const top = live.top(t.id);
  const ideas = top.length ? top : live.latest(t.id);
  const summary = live.summary(t.id);
  const out = [
    h("p", { class: "spot-meta", text: `${plural(t.notes?.[t.stage] || 0, "note")} this stage · ${stepLine(t)}${t.ready ? " · ✓ Ready" : ""}` }),
  ];
  if (summary) out.push(h("p", { class: "spot-summary", dir: "auto", text: summary }));
  if (ideas.length) {
    out.push(h("h3", { class: "spot-sub", text: top.length ? "Top ideas" : "Latest notes" }));
    out.push(h("ul", { class: "spot-ideas" }, ideas.slice(0, 6).map((n) => ideaItem(n, true))));
  }
  queueMicrotask(() => fitBody($("spot-body")));
  return out;
}

/** Largest type (as a share of the screen's height) at which the element's text fits. */
function fitText(el, maxVh, minVh) {
  let size = maxVh;
  el.style.fontSize = `${size * innerHeight}px`;
  while (size > minVh && (el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1)) {
    size *= 0.9;
    el.style.fontSize = `${size * innerHeight}px`;
  }
}

/** Drop whole items from the end of the spotlight until what is left fits. */
function fitBody(body) {
  const items = [...body.querySelectorAll(".spot-ideas > li, .spot-summary, .spot-tables > li")];
  for (const li of items) li.hidden = false;
  for (let i = items.length - 1; i >= 0 && body.scrollHeight > body.clientHeight + 1; i--) items[i].hidden = true;
}

function renderClosing() {
  const { state } = live;
  $("closing-event").textContent = state.event.title;
  const notes = recordTotal(state); // every note in the record: hidden and late ones too
  $("closing-text").textContent = `${plural(live.tables().length, "table")} · ${plural(notes, "note")}. ` +
    "The event has closed. Thank you! Every table's notes and summaries go into the report.";
  const starred = Object.values(state.notes).filter((n) => n.starred && !n.hidden && !n.private)
    .sort((a, b) => (b.votes || 0) - (a.votes || 0)).slice(0, 4);
  $("closing-ideas").replaceChildren(...starred.map((n) => ideaItem(n, true)));
}


// For tests and a person at the keyboard: which page is up, and turning to another.
globalThis.plenaryDashboard = {
  pages: () => pages.map((p) => p.groups.flatMap((g) => g.tables)),
  page: () => pageIndex,
  show(i) {
    pageIndex = Math.max(0, Math.min(pages.length - 1, i));
    showPage();
  },
};
addEventListener("keydown", (e) => {
  if (pages.length < 2 || (e.key !== "ArrowRight" && e.key !== "ArrowLeft")) return;
  pageIndex = (pageIndex + (e.key === "ArrowRight" ? 1 : pages.length - 1)) % pages.length;
  showPage();
});
