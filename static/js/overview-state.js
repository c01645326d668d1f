// An event's overview (organiser console, dashboard) as pure state: `reduceOverview(state,
// action)` returns the next state and never changes the one it was given. No DOM, no
// socket. One seq per table; the connection (connection.js) hands changes over in order.
//
// State: event, you, tables {id: table + notes {stage: n}, votes {stage: n},
//   last_activity}, notes {id: note} (the ones this screen knows: recent, top, every new
//   one), byTable {table id: [note ids]}, summaries {table id: {stage: text}},
//   presence {table id: n}, hidden {id: note} (organiser), ticker [note ids, newest
//   first], offset (server clock minus ours, ms).
//
// Counts are one rule for every screen, live or fresh: a table's notes of a stage are the
// notes posted there that are neither deleted, merged away nor hidden. Notes still in
// silent writing count too: a dashboard learns of them from content-free placeholders
// (`private`, which say what they stand for), so it counts them without their words.

import { countsBlind } from "./rules.js";

const TICKER_KEEP = 12;

export const emptyOverview = () => ({
  loaded: false, event: null, you: null, tables: {}, notes: {}, byTable: {}, summaries: {},
  presence: {}, hidden: {}, ticker: [], offset: 0,
});

const without = (o, key) => { const { [key]: _, ...rest } = o; return rest; };
const bump = (counts, stage, by) => ({ ...counts, [stage]: Math.max(0, (counts[stage] || 0) + by) });

/** How a change moves a table's note count (+1, -1 or 0), whatever the viewer may read. */
const NOTE_DELTA = { "note.added": 1, "note.shown": 1, "note.deleted": -1, "note.hidden": -1, "note.merged": -1 };
const VOTE_DELTA = { "vote.added": 1, "vote.removed": -1 };

function fromSnapshot(ack, at) {
  const tables = {};
  for (const t of ack.tables) {
    tables[t.id] = { ...t, notes: { ...(t.notes || {}) }, votes: { ...(t.votes || {}) }, hidden_notes: { ...(t.hidden_notes || {}) },
      last_activity: t.last_activity ?? null, locked: !!t.locked, ready: !!t.ready };
  }
  let s = { ...emptyOverview(), loaded: true, event: ack.event, you: ack.you, tables,
    offset: typeof ack.server_time === "number" ? ack.server_time - at : 0 };
  const known = [...(ack.recent || [])].sort((a, b) => a.at - b.at);
  for (const list of Object.values(ack.top || {})) known.push(...(list || []));
  for (const n of known) s = addNote(s, n);
  const hidden = {};
  for (const n of ack.hidden || []) {
    s = addNote(s, { ...n, hidden: true });
    hidden[n.id] = s.notes[n.id];
  }
  const summaries = {};
  for (const [id, text] of Object.entries(ack.summaries || {})) {
    if (tables[id] && typeof text === "string") summaries[id] = { [tables[id].stage]: text };
  }
  const ticker = Object.values(s.notes).filter((n) => !n.private && !n.hidden)
    .sort((a, b) => b.at - a.at).slice(0, TICKER_KEEP).map((n) => n.id);
  return { ...s, hidden, summaries, ticker, presence: { ...(ack.presence || {}) } };
}

/** Keep a note (merging into the copy we have; a note without a count keeps ours). */
function addNote(s, n) {
  if (!n || !n.id) return s;
  const old = s.notes[n.id];
  const note = { ...old, ...n };
  if (n.votes == null && old?.votes != null) note.votes = old.votes;
  const ids = s.byTable[n.table] || [];
  return { ...s, notes: { ...s.notes, [n.id]: note },
    byTable: ids.includes(n.id) ? s.byTable : { ...s.byTable, [n.table]: [...ids, n.id] } };
}

function dropNote(s, id) {
  const n = s.notes[id];
  if (!n) return s;
  return { ...s, notes: without(s.notes, id), byTable: { ...s.byTable, [n.table]: (s.byTable[n.table] || []).filter((x) => x !== id) },
    ticker: s.ticker.filter((x) => x !== id) };
}

const toTicker = (s, n) => (!n || n.private || n.hidden ? s
  : { ...s, ticker: [n.id, ...s.ticker.filter((x) => x !== n.id)].slice(0, TICKER_KEEP) });

function patchNote(s, id, fields) {
  return s.notes[id] ? { ...s, notes: { ...s.notes, [id]: { ...s.notes[id], ...fields } } } : s;
}

/** The notes of one table this screen knows, as a list. */
const notesOf = (s, tableId) => (s.byTable[tableId] || []).map((id) => s.notes[id]).filter(Boolean);

function applyChange(s0, c) {
  let s = s0;
  let t = s.tables[c.table];
  const d = c.data || {};
  const known = d.id ? s.notes[d.id] : null;
  // Which stage a count moves in: the note's, when this screen knows it; else the table's.
  const stageOf = () => d.note?.stage ?? known?.stage ?? t.stage;
  const of = c.type === "private" ? d.of : c.type;
  if (NOTE_DELTA[of] && !(of === "note.deleted" && known?.hidden)) t = { ...t, notes: bump(t.notes, stageOf(), NOTE_DELTA[of]) };
  if (of === "note.hidden" || of === "note.shown") {
    t = { ...t, hidden_notes: bump(t.hidden_notes || {}, stageOf(), of === "note.hidden" ? 1 : -1) };
  }
  if (VOTE_DELTA[of]) {
    const target = d.vote ? s.notes[d.vote.note] : null;
    t = { ...t, votes: bump(t.votes, target?.stage ?? t.stage, VOTE_DELTA[of]) };
  }
  switch (c.type) {
    case "note.added": s = toTicker(addNote(s, { ...d.note }), d.note); break;
    case "note.edited": s = addNote(s, d.note); break;
    case "note.deleted": s = dropNote(s, d.id); break;
    case "notes.revealed":
      for (const id of s.byTable[t.id] || []) {
        const x = s.notes[id];
        if (x && x.stage === d.stage && x.private) s = patchNote(s, id, { private: false });
      }
      // Oldest first, so the ticker ends newest first.
      for (const x of [...(d.notes || [])].sort((a, b) => a.at - b.at)) {
        s = addNote(s, { ...x, private: false });
        s = toTicker(s, s.notes[x.id]);
      }
      break;
    case "note.starred": s = patchNote(s, d.id, { starred: !!d.starred }); break;
    case "note.hidden":
      s = patchNote(s, d.id, { hidden: true });
      s = { ...s, ticker: s.ticker.filter((x) => x !== d.id) };
      if (s.you?.role === "organiser") {
        s = { ...s, hidden: { ...s.hidden, [d.id]: s.notes[d.id] || { id: d.id, table: t.id, stage: t.stage, text: null, hidden: true } } };
      }
      break;
    case "note.shown":
      if (d.note) s = addNote(s, { ...d.note, hidden: false });
      else s = patchNote(s, d.id, { hidden: false });
      s = { ...s, hidden: without(s.hidden, d.id) };
      break;
    case "note.merged": {
      const into = s.notes[d.into];
      if (into) {
        const votes = d.votes != null ? d.votes : into.votes != null && known?.votes != null ? into.votes + known.votes : into.votes;
        s = patchNote(s, d.into, { votes });
      }
      s = dropNote(s, d.id);
      break;
    }
    case "note.grouped": s = patchNote(s, d.id, { group: d.group ?? null }); break;
    case "vote.added": case "vote.removed":
      if (typeof d.votes === "number" && d.vote) s = patchNote(s, d.vote.note, { votes: d.votes });
      break;
    case "votes.revealed": {
      const counts = d.votes || {};
      let total = 0;
      for (const v of Object.values(counts)) total += v;
      for (const id of s.byTable[t.id] || []) {
        if (s.notes[id]?.stage === d.stage) s = patchNote(s, id, { votes: counts[id] || 0 });
      }
      t = { ...t, votes: { ...t.votes, [d.stage]: total } };
      break;
    }
    case "summary.changed":
      s = { ...s, summaries: { ...s.summaries, [t.id]: { ...(s.summaries[t.id] || {}), [d.stage]: d.text || "" } } };
      break;
    case "table.ready": t = { ...t, ready: !!d.ready }; break;
    case "table.locked": t = { ...t, locked: !!d.locked }; break;
    case "step.changed": case "stage.changed":
      t = { ...t, stage: d.stage, step: d.step };
      if (c.type === "stage.changed") {
        t.ready = false;
        s = { ...s, event: { ...s.event, stage: d.stage } };
      }
      // Entering a blind vote: the counts this screen has are kept from it until the reveal.
      if (countsBlind(s.event, t)) {
        for (const id of s.byTable[t.id] || []) if (s.notes[id]?.stage === t.stage) s = patchNote(s, id, { votes: null });
      }
      break;
    case "event.status": s = { ...s, event: { ...s.event, status: d.status } }; break;
    default: break; // `private` and types this page does not know: counted above, if at all
  }
  // The server's "last activity" is the time of the table's latest logged change.
  if (typeof c.at === "number") t = { ...t, last_activity: Math.max(t.last_activity || 0, c.at) };
  return { ...s, tables: { ...s.tables, [t.id]: { ...t, seq: c.seq } } };
}

/** The overview after `action` (snapshot, change, event, presence). */
export function reduceOverview(s, a) {
  switch (a.type) {
    case "snapshot": return fromSnapshot(a.ack, a.at);
    case "change": return s.tables[a.change.table] ? applyChange(s, a.change) : s;
    case "event": {
      if (!s.event) return s;
      const offset = typeof a.server_time === "number" ? a.server_time - a.at : s.offset;
      // The event-wide lock is its own flag: a table locked on its own stays locked.
      return { ...s, event: { ...s.event, ...a.event, template: a.event.template || s.event.template }, offset };
    }
    case "presence": {
      // {tables: {id: count}} for every table whose count changed; {table, count} for one.
      const p = a.presence || {};
      const counts = p.tables && typeof p.tables === "object" ? p.tables : p.table ? { [p.table]: p.count } : null;
      return counts ? { ...s, presence: { ...s.presence, ...counts } } : s;
    }
    default: return s;
  }
}

/** A table's notes of a stage that anyone may see, best first: starred, then votes, then oldest. */
function ranked(s, tableId, stage) {
  return notesOf(s, tableId).filter((n) => n.stage === stage && !n.hidden && !n.private)
    .sort((a, b) => (b.starred - a.starred) || ((b.votes || 0) - (a.votes || 0)) || (a.at - b.at));
}

/** Ideas rising to the top at a table this stage: starred or voted for. */
export function topIdeas(s, tableId) {
  const t = s.tables[tableId];
  return t ? ranked(s, tableId, t.stage).filter((n) => n.starred || (n.votes || 0) > 0) : [];
}

/** The public notes of a table's current stage, newest first. */
export function latestNotes(s, tableId) {
  const t = s.tables[tableId];
  return t ? ranked(s, tableId, t.stage).sort((a, b) => b.at - a.at) : [];
}

/** This stage's summary of a table. */
export const summaryOf = (s, tableId) => s.summaries[tableId]?.[s.tables[tableId]?.stage] || "";

/** Every note of the event's record: public, still private, and hidden (the closing total). */
export function recordTotal(s) {
  let n = 0;
  for (const t of Object.values(s.tables)) {
    for (const k of Object.values(t.notes)) n += k;
    for (const k of Object.values(t.hidden_notes || {})) n += k;
  }
  return n;
}

/** Whether a table's board is locked: every board, or this one on its own. */
export const tableLocked = (s, t) => !!(s.event?.locked || t.locked);

/** What a fresh snapshot would say, for comparing (tests): per table and event-wide. */
export function overviewView(s) {
  const tables = {};
  for (const t of Object.values(s.tables)) {
    const nz = (o) => Object.fromEntries(Object.entries(o).filter(([, n]) => n > 0));
    tables[t.id] = { stage: t.stage, step: t.step, ready: !!t.ready, locked: !!t.locked, seq: t.seq,
      notes: nz(t.notes), votes: nz(t.votes), hidden_notes: nz(t.hidden_notes || {}), last_activity: t.last_activity ?? null };
  }
  const summaries = {};
  for (const id of Object.keys(s.tables)) { const x = summaryOf(s, id); if (x) summaries[id] = x; }
  return { status: s.event.status, stage: s.event.stage, locked: !!s.event.locked, message: s.event.message ?? null,
    tables, summaries, hidden: Object.keys(s.hidden).sort() };
}
