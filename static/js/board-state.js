// One table's board (participant, facilitator) as pure state: `reduceBoard(state, action)`
// returns the next state and never changes the one it was given. No DOM, no socket: the
// page feeds it what the connection hands over (connection.js) and what its own requests
// were answered, and draws the result. Node's test runner replays the server's recorded
// broadcasts through it (tests/js/).
//
// State (plain data, so it can be kept in localStorage as "the last known board"):
//   event, you, table (with seq), notes {id: note + mine}, groups {id: group},
//   summaries {stage: text}, myVotes {id: {id, note}} (this stage), mine {id: true} (ids this
//   device made: notes and votes), limits {stage: dots}, presence, offset (server clock
//   minus ours, ms), others {known, before, live} (others' silent writing, counted from
//   the content-free placeholders).

import { countsBlind, stepOf } from "./rules.js";

export const emptyBoard = () => ({
  loaded: false, event: null, you: null, table: null, notes: {}, groups: {}, summaries: {},
  myVotes: {}, mine: {}, limits: {}, presence: null, offset: 0,
  others: { known: true, before: 0, live: 0 },
});

const staffOf = (s) => !!s.you && s.you.role !== "participant";
const without = (o, key) => { const { [key]: _, ...rest } = o; return rest; };
const mapValues = (o, fn) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fn(v, k)]));

/** What a placeholder does to the count of others' hidden notes (edits and votes: nothing). */
function hiddenDelta(c) {
  if (c.type !== "private") return 0;
  const of = c.data?.of;
  return of === "note.deleted" || of === "note.hidden" || of === "note.merged" ? -1
    : of === undefined || of === "note.added" || of === "note.shown" ? 1 : 0;
}

function fromSnapshot(s, ack, at) {
  const mine = { ...s.mine };
  const notes = {};
  for (const n of ack.notes || []) {
    notes[n.id] = { ...n, mine: !!n.mine || !!mine[n.id] };
    if (n.mine) mine[n.id] = true;
  }
  const myVotes = {};
  for (const v of ack.my_votes || []) { myVotes[v.id] = { id: v.id, note: v.note }; mine[v.id] = true; }
  const table = { ...ack.table, seq: ack.seq ?? ack.table.seq };
  const privateNow = !!stepOf(ack.event, table)?.private;
  return {
    ...s,
    loaded: true,
    event: ack.event,
    you: ack.you,
    table,
    notes,
    groups: Object.fromEntries((ack.groups || []).map((g) => [g.id, g])),
    summaries: { ...(ack.summaries || {}) },
    myVotes,
    mine,
    limits: s.table && s.table.stage === table.stage ? s.limits : {},
    presence: ack.presence ?? s.presence,
    offset: typeof ack.server_time === "number" ? ack.server_time - at : s.offset,
    // A snapshot never says how much others have written in silence: unknown until counted.
    others: { known: !privateNow, before: 0, live: 0 },
  };
}

/** One change of the table's log (docs/protocol.md), already in seq order. */
function applyChange(s, c) {
  const d = c.data || {};
  const staff = staffOf(s);
  let { notes, groups, summaries, myVotes, table, event, others, limits } = s;
  const put = (note, votes) => {
    // A hidden note never belongs on a participant's board, whatever message carries it.
    if (!staff && note.hidden) { notes = without(notes, note.id); return; }
    const old = notes[note.id];
    notes = { ...notes, [note.id]: { ...old, ...note,
      mine: !!old?.mine || !!note.mine || !!s.mine[note.id],
      votes: note.votes !== undefined ? note.votes : old ? old.votes : votes } };
  };
  const patch = (id, fields) => { if (notes[id]) notes = { ...notes, [id]: { ...notes[id], ...fields } }; };
  const blindNow = (stage) => countsBlind(event, table) && stage === table.stage;
  switch (c.type) {
    case "note.added": case "note.edited": put(d.note, blindNow(d.note.stage) ? null : 0); break;
    case "note.deleted": notes = without(notes, d.id); break;
    case "notes.revealed":
      notes = mapValues(notes, (n) => (n.stage === d.stage && n.private ? { ...n, private: false } : n));
      for (const x of d.notes || []) put({ ...x, private: false }, 0);
      others = { known: true, before: 0, live: 0 };
      break;
    case "note.starred": patch(d.id, { starred: !!d.starred }); break;
    case "note.hidden":
      if (staff) patch(d.id, { hidden: true });
      else notes = without(notes, d.id);
      break;
    case "note.shown":
      if (notes[d.id]) patch(d.id, { hidden: false });
      else if (d.note) put({ ...d.note, hidden: false }, blindNow(d.note.stage) ? null : 0);
      break;
    case "note.merged":
      if (notes[d.into] && d.votes !== undefined) patch(d.into, { votes: d.votes });
      myVotes = mapValues(myVotes, (v) => (v.note === d.id ? { ...v, note: d.into } : v));
      notes = without(notes, d.id);
      break;
    case "note.grouped": patch(d.id, { group: d.group ?? null }); break;
    case "group.saved": groups = { ...groups, [d.group.id]: d.group }; break;
    case "group.deleted":
      groups = without(groups, d.id);
      notes = mapValues(notes, (n) => (n.group === d.id ? { ...n, group: null } : n));
      break;
    case "vote.added": case "vote.removed": {
      const v = d.vote || {};
      if (c.type === "vote.added" && (myVotes[v.id] || s.mine[v.id])) myVotes = { ...myVotes, [v.id]: { id: v.id, note: v.note } };
      else if (c.type === "vote.removed") myVotes = without(myVotes, v.id);
      // While counts are blind the server sends null: the board shows none.
      if (d.votes !== undefined) patch(v.note, { votes: d.votes });
      break;
    }
    case "votes.revealed":
      notes = mapValues(notes, (n) => (n.stage === d.stage ? { ...n, votes: d.votes?.[n.id] || 0 } : n));
      break;
    case "summary.changed": summaries = { ...summaries, [d.stage]: d.text }; break;
    case "table.ready": table = { ...table, ready: !!d.ready }; break;
    case "table.locked": table = { ...table, locked: !!d.locked }; break;
    case "event.status": event = { ...event, status: d.status }; break;
    case "step.changed": case "stage.changed": {
      const moved = c.type === "stage.changed";
      table = { ...table, stage: d.stage, step: d.step, ...(moved ? { ready: false } : {}) };
      if (moved) {
        event = { ...event, stage: d.stage };
        myVotes = {}; // dots belong to their stage
        limits = {};
      }
      // Entering a blind vote: the counts this screen has are kept from it until the reveal.
      if (countsBlind(event, table)) {
        notes = mapValues(notes, (n) => (n.stage === table.stage ? { ...n, votes: null } : n));
      }
      if (moved || !stepOf(event, table)?.private) others = { known: true, before: 0, live: 0 };
      break;
    }
    case "private":
      if (stepOf(event, table)?.private) others = { ...others, live: others.live + hiddenDelta(c) };
      break;
    default: break; // a type this page does not know: count its seq only
  }
  return { ...s, notes, groups, summaries, myVotes, event, others, limits, table: { ...table, seq: c.seq } };
}

/** The board after `action`. Actions: the connection's (snapshot, change, event,
 *  presence) and the page's own answers (own, note.acked, note.gone, vote.acked,
 *  vote.gone, vote.limit, ready, summary.saved, private.replay). `at` is the time the
 *  action happened on this device (ms), for the clock offset. */
export function reduceBoard(s, a) {
  switch (a.type) {
    case "snapshot": return fromSnapshot(s, a.ack, a.at);
    case "restore": return { ...emptyBoard(), ...a.board, loaded: true, restored: true };
    case "change": return s.table && a.change.table === s.table.id ? applyChange(s, a.change) : s;
    case "event": {
      if (!s.event) return s;
      const offset = typeof a.server_time === "number" ? a.server_time - a.at : s.offset;
      return { ...s, event: { ...s.event, ...a.event, template: a.event.template || s.event.template }, offset };
    }
    case "presence": return { ...s, presence: a.presence };
    case "own": return { ...s, mine: { ...s.mine, [a.id]: true } };
    case "note.acked": {
      const old = s.notes[a.note.id];
      return { ...s, mine: { ...s.mine, [a.note.id]: true },
        notes: { ...s.notes, [a.note.id]: { ...old, ...a.note, votes: old ? old.votes : (a.note.votes ?? 0), mine: true } } };
    }
    case "note.gone": return { ...s, notes: without(s.notes, a.id) };
    case "vote.acked": {
      const myVotes = { ...s.myVotes, [a.vote.id]: { id: a.vote.id, note: a.vote.note } };
      const limits = typeof a.votes_left === "number"
        ? { ...s.limits, [s.table.stage]: Object.keys(myVotes).length + a.votes_left } : s.limits;
      return { ...s, myVotes, limits, mine: { ...s.mine, [a.vote.id]: true } };
    }
    case "vote.gone": return { ...s, myVotes: without(s.myVotes, a.id) };
    case "vote.limit": return { ...s, limits: { ...s.limits, [s.table.stage]: Object.keys(s.myVotes).length } };
    case "ready": return { ...s, table: { ...s.table, ready: !!a.ready } };
    case "summary.saved": return { ...s, summaries: { ...s.summaries, [a.stage]: a.text } };
    case "private.replay": return countReplay(s, a);
    default: return s;
  }
}

/** Others' silent writing so far, from a replay of the changes up to the snapshot (`upTo`):
 *  the placeholders since the step began. Known only if the replay reaches that far back. */
function countReplay(s, { upTo, changes }) {
  if (!s.table || s.others.known || s.table.seq < upTo) return s;
  let n = 0;
  let began = upTo <= 500;
  for (const c of changes) {
    if (c.seq > upTo) break;
    if (c.type === "step.changed" || c.type === "stage.changed" || c.type === "notes.revealed") { n = 0; began = true; } else n += hiddenDelta(c);
  }
  return began ? { ...s, others: { ...s.others, known: true, before: n } } : s;
}

/** The board as a fresh snapshot would show it: for comparing (tests) and keeping. */
export function boardView(s) {
  return {
    seq: s.table.seq,
    notes: mapValues(s.notes, (n) => n),
    groups: s.groups,
    summaries: s.summaries,
    table: { stage: s.table.stage, step: s.table.step, ready: !!s.table.ready, locked: !!s.table.locked },
    status: s.event.status,
    my_votes: Object.values(s.myVotes).map((v) => v.id).sort(),
  };
}
