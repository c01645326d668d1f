// The live connection of the pages that watch a whole event (organiser console, dashboard):
// docs/protocol.md plus docs/console-api.md. One seq per table; single `change` events and
// coalesced `changes` lists; `event.updated` (timer, message, spotlight, locks) with the
// server's clock, so every screen shows the same remaining time whatever its own clock says.
// live.js does the same for one table; this module keeps the extras an event view needs
// (votes, top ideas, summaries, last activity, hidden notes) and never touches the DOM
// except the status line.
import { $, countsBlind, plural } from "./live.js";

const ACK_MS = 10000;
const PROBE_MS = 5000;
const RETRY_MS = 3000;
const FRESH_MS = 5000; // at most one extra snapshot this often, for a note we have never seen
const FATAL = new Set(["bad_token", "unauthenticated", "invalid_payload"]);

const inc = (o, k, by = 1) => { o[k] = Math.max(0, (o[k] || 0) + by); };

/** Remaining time of the event's stage timer in ms, or null when no timer runs. */
export function remainingMs(event, offset) {
  const tm = event?.timer;
  if (!tm || tm.state === "stopped" || !tm.state) return null;
  if (tm.state === "paused") return tm.remaining_ms ?? null;
  if (tm.ends_at == null) return tm.remaining_ms ?? null;
  return tm.ends_at - (Date.now() + offset);
}

/** 754000 -> "12:34"; negative -> "0:00". Rounds up, so 0:00 means time is up. */
export function mmss(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, "0")}`;
}

/** "just now", "2 min ago", "1 h 5 min ago". */
export function ago(ms) {
  if (ms == null || !isFinite(ms)) return "No activity yet";
  const min = Math.floor(Math.max(0, ms) / 60000);
  if (min < 1) return "Just now";
  if (min < 60) return `${min} min ago`;
  return `${Math.floor(min / 60)} h ${min % 60} min ago`;
}

/** The topic key of a table (topic id when the server sends it, else its title). */
export function topicKey(t) {
  return t.topic_id ?? t.topic?.id ?? (t.topic ? `title:${t.topic.title}` : "none");
}

// opts: auth, onSnapshot(state), onChange(change, state, replayed), onEvent(event, state),
// onPresence(p, state), onStatus(kind), onFatal(err), keepAll (organiser: keep every note).
export function connectEvent(opts) {
  const statusEl = $("status");
  const state = {
    loaded: false, stopped: false, status: "",
    event: null, you: null,
    tables: new Map(), // id -> table (+ notes {stage: n}, votes {stage: n}, last_activity, locked)
    notes: new Map(), // id -> note: every note this page knows
    byTable: new Map(), // table id -> Set of note ids
    summaries: new Map(), // table id -> {stage: text}
    presence: {}, // table id -> participants connected
    hidden: new Map(), // note id -> note (organiser)
    ticker: [], // newest first: public notes, for the dashboard's ticker
    offset: 0, // server clock minus this device's clock (ms)
    snapshotAt: 0,
    serverTop: false, // the snapshot had `top`
  };
  let seen = new Map(); // table id -> ids counted since the snapshot

  const socket = globalThis.io({
    auth: opts.auth,
    transports: ["websocket"],
    tryAllTransports: true,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 10000,
  });

  let conn = 0;
  let syncing = false;
  let again = false;
  let buffer = [];
  let fatal = null;
  let timer = 0;
  let lastSync = 0;
  let gapTries = 0;
  let resyncTimer = 0;
  let freshTimer = 0;

  function status(kind, text) {
    state.status = kind;
    if (!text) {
      if (kind === "connected") text = "Connected";
      else if (kind === "connecting") text = "Connecting…";
      else if (!navigator.onLine) text = "Offline — the board will update when you reconnect";
      else text = "Reconnecting…";
    }
    if (statusEl && statusEl.textContent !== text) statusEl.textContent = text;
    if (statusEl) statusEl.dataset.state = kind;
    opts.onStatus?.(kind);
  }

  async function request(name, payload, ms = ACK_MS) {
    if (!socket.connected) {
      return { ok: false, error: { code: "offline", message: "You are not connected. Try again when the connection is back." } };
    }
    try {
      return await socket.timeout(ms).emitWithAck(name, payload);
    } catch {
      return { ok: false, error: { code: "timeout", message: "The server did not answer in time. Try again." } };
    }
  }

  function clockFrom(serverTime) {
    if (typeof serverTime === "number") state.offset = serverTime - Date.now();
  }

  async function sync(ms) {
    if (syncing) { again = true; return; }
    syncing = true;
    again = false;
    const mine = conn;
    const ack = await request("sync", { since: null }, ms);
    if (mine !== conn) return;
    syncing = false;
    lastSync = Date.now();
    if (!ack.ok) {
      const code = ack.error?.code;
      if (code === "bad_token" || code === "forbidden") return stop(ack.error);
      if (code === "timeout") return socket.io.engine?.close();
      clearTimeout(timer);
      timer = setTimeout(() => socket.connected && sync(), RETRY_MS);
      return;
    }
    load(ack);
    state.loaded = true;
    status("connected");
    opts.onSnapshot?.(state);
    if (again) return sync();
    const waiting = buffer.sort((x, y) => x.seq - y.seq);
    buffer = [];
    for (const c of waiting) syncing ? buffer.push(c) : handle(c);
  }

  function resync() {
    const wait = lastSync + 1000 - Date.now();
    if (wait <= 0) sync();
    else if (!resyncTimer) resyncTimer = setTimeout(() => { resyncTimer = 0; sync(); }, wait);
  }

  /** A change names a note we never saw (a star on an old note): fetch a fresh snapshot, soon. */
  function needFresh() {
    if (freshTimer) return;
    const wait = Math.max(0, lastSync + FRESH_MS - Date.now());
    freshTimer = setTimeout(() => { freshTimer = 0; if (socket.connected) sync(); }, wait);
  }

  function addNote(n, keepVotes = true) {
    if (!n || !n.id) return;
    const old = state.notes.get(n.id);
    const note = { ...old, ...n };
    if (keepVotes && n.votes == null && old?.votes != null) note.votes = old.votes;
    state.notes.set(n.id, note);
    let ids = state.byTable.get(n.table);
    if (!ids) state.byTable.set(n.table, (ids = new Set()));
    ids.add(n.id);
    return note;
  }

  function dropNote(id) {
    const n = state.notes.get(id);
    if (!n) return;
    state.notes.delete(id);
    state.byTable.get(n.table)?.delete(id);
  }

  function pushTicker(n) {
    if (!n || n.private || n.hidden) return;
    state.ticker = [n.id, ...state.ticker.filter((x) => x !== n.id)].slice(0, 12);
  }

  function load(ack) {
    clockFrom(ack.server_time);
    state.snapshotAt = ack.server_time ?? Date.now();
    state.event = ack.event;
    state.you = ack.you;
    state.tables = new Map(ack.tables.map((t) => [t.id, {
      ...t,
      notes: { ...(t.notes || {}) },
      votes: { ...(t.votes || {}) },
      last_activity: t.last_activity ?? null,
      locked: !!t.locked,
    }]));
    state.notes = new Map();
    state.byTable = new Map();
    state.hidden = new Map();
    seen = new Map();
    for (const n of [...(ack.recent || [])].sort((a, b) => a.at - b.at)) addNote(n);
    state.serverTop = !!ack.top;
    for (const list of Object.values(ack.top || {})) for (const n of list || []) addNote(n);
    for (const n of ack.hidden || []) state.hidden.set(n.id, addNote({ ...n, hidden: true }));
    state.summaries = new Map();
    for (const [id, text] of Object.entries(ack.summaries || {})) {
      const t = state.tables.get(id);
      if (t && typeof text === "string") state.summaries.set(id, { [t.stage]: text });
    }
    if (ack.presence) state.presence = { ...ack.presence };
    state.ticker = [...state.notes.values()].filter((n) => !n.private && !n.hidden)
      .sort((a, b) => b.at - a.at).slice(0, 12).map((n) => n.id);
  }

  function apply(t, c) {
    const d = c.data || {};
    const n = d.id ? state.notes.get(d.id) : null;
    switch (c.type) {
      case "note.added": {
        const note = addNote(d.note, false);
        if (!note) break;
        inc(t.notes, note.stage);
        if (!seen.has(t.id)) seen.set(t.id, new Set());
        seen.get(t.id).add(note.id);
        pushTicker(note);
        break;
      }
      case "note.edited": addNote(d.note); break;
      case "note.deleted":
        if (!n?.hidden) inc(t.notes, n?.stage ?? t.stage, -1);
        dropNote(d.id);
        state.ticker = state.ticker.filter((x) => x !== d.id);
        break;
      case "notes.revealed": {
        const counted = seen.get(t.id) || new Set();
        for (const id of state.byTable.get(t.id) || []) {
          const x = state.notes.get(id);
          if (x && x.stage === d.stage) x.private = false;
        }
        for (const x of d.notes || []) {
          // Notes written in silence since the snapshot reached a dashboard as `private`:
          // count them now. Older ones were in the snapshot's count already.
          if (!counted.has(x.id) && !state.notes.has(x.id) && x.at > state.snapshotAt) inc(t.notes, x.stage);
          pushTicker(addNote({ ...x, private: false }));
        }
        break;
      }
      case "note.starred":
        if (n) n.starred = !!d.starred;
        else if (d.starred) needFresh();
        break;
      case "note.hidden":
        if (n && !n.hidden) inc(t.notes, n.stage, -1);
        else if (!n) inc(t.notes, t.stage, -1);
        if (n) n.hidden = true;
        state.hidden.set(d.id, n || { id: d.id, table: t.id, stage: t.stage, text: null, hidden: true });
        state.ticker = state.ticker.filter((x) => x !== d.id);
        break;
      case "note.shown":
        if (!n || n.hidden) inc(t.notes, d.note?.stage ?? n?.stage ?? t.stage);
        if (d.note) addNote({ ...d.note, hidden: false });
        else if (n) n.hidden = false;
        state.hidden.delete(d.id);
        break;
      case "note.merged": {
        const into = state.notes.get(d.into);
        if (into) {
          if (d.votes != null) into.votes = d.votes;
          else if (into.votes != null && n?.votes != null) into.votes += n.votes;
        }
        if (!n?.hidden) inc(t.notes, n?.stage ?? t.stage, -1);
        dropNote(d.id);
        state.ticker = state.ticker.filter((x) => x !== d.id);
        break;
      }
      case "vote.added": case "vote.removed": {
        const target = state.notes.get(d.vote?.note);
        inc(t.votes, target?.stage ?? t.stage, c.type === "vote.added" ? 1 : -1);
        if (target && typeof d.votes === "number") target.votes = d.votes;
        break;
      }
      case "votes.revealed": {
        const counts = d.votes || {};
        let total = 0;
        let unknown = false;
        for (const [id, v] of Object.entries(counts)) {
          total += v;
          const x = state.notes.get(id);
          if (x) x.votes = v;
          else if (v > 0) unknown = true;
        }
        for (const id of state.byTable.get(t.id) || []) {
          const x = state.notes.get(id);
          if (x && x.stage === d.stage && !(id in counts)) x.votes = 0;
        }
        t.votes[d.stage] = total;
        if (unknown) needFresh();
        break;
      }
      case "summary.changed": {
        const s = state.summaries.get(t.id) || {};
        s[d.stage] = d.text || "";
        state.summaries.set(t.id, s);
        break;
      }
      case "table.ready": t.ready = !!d.ready; break;
      case "table.locked": t.locked = !!d.locked; break;
      case "step.changed": case "stage.changed":
        t.stage = d.stage;
        t.step = d.step;
        if (c.type === "stage.changed") {
          t.ready = false;
          state.event.stage = d.stage;
        }
        // Entering a blind vote: the counts this screen has are kept from it until the reveal.
        if (countsBlind(state.event, t)) {
          for (const id of state.byTable.get(t.id) || []) {
            const x = state.notes.get(id);
            if (x && x.stage === t.stage) x.votes = null;
          }
        }
        break;
      case "event.status": state.event.status = d.status; break;
      default: break; // `private` and types this page does not know: count the seq only
    }
    // The server's "last activity" is the time of the table's latest logged change.
    if (typeof c.at === "number") t.last_activity = Math.max(t.last_activity || 0, c.at);
    t.seq = c.seq;
  }

  function handle(c, replayed) {
    const t = state.tables.get(c.table);
    if (!t) return resync();
    if (c.seq <= t.seq) return;
    if (c.seq > t.seq + 1) {
      buffer.push(c);
      if (syncing || resyncTimer) return;
      if (++gapTries > 3) { buffer = []; gapTries = 0; return; }
      return resync();
    }
    gapTries = 0;
    apply(t, c);
    opts.onChange?.(c, state, !!replayed);
  }

  function receive(c) {
    if (typeof c?.seq !== "number") return;
    if (syncing || !state.loaded) buffer.push(c);
    else handle(c);
  }

  function eventUpdated(msg) {
    if (!msg || typeof msg !== "object" || !msg.event) return;
    clockFrom(msg.server_time);
    takeEvent(msg.event, msg.tables);
  }

  /** A newer copy of the event (event.updated, or a live control's ack). */
  function takeEvent(ev, tables) {
    if (!state.event || !ev) return;
    const keep = { template: state.event.template };
    const wasLocked = !!state.event.locked;
    state.event = { ...state.event, ...ev, ...(ev.template ? {} : keep) };
    // Locking or unlocking every board sets every table's own flag too (server side).
    if (typeof ev.locked === "boolean" && ev.locked !== wasLocked) {
      for (const t of state.tables.values()) t.locked = ev.locked;
    }
    // Tables' lock flags, when the server sends them along.
    const list = Array.isArray(tables) ? tables : Array.isArray(ev.tables) ? ev.tables : null;
    for (const x of list || []) {
      const t = state.tables.get(x.id);
      if (t && typeof x.locked === "boolean") t.locked = x.locked;
    }
    if (ev.locked_tables && typeof ev.locked_tables === "object") {
      const ids = new Set(Array.isArray(ev.locked_tables) ? ev.locked_tables : Object.keys(ev.locked_tables));
      for (const t of state.tables.values()) t.locked = ids.has(t.id);
    }
    opts.onEvent?.(state.event, state);
  }

  function stop(err) {
    fatal = err;
    state.stopped = true;
    socket.disconnect();
    status("stopped", err.message);
    opts.onFatal?.(err);
  }

  function reconnect() {
    if (state.stopped || socket.connected) return;
    socket.disconnect();
    socket.connect();
  }

  socket.on("connect", () => {
    conn++;
    syncing = false;
    buffer = [];
    status("connecting", state.loaded ? "Connected — catching up…" : "Connecting…");
    sync();
  });
  socket.on("change", receive);
  socket.on("changes", (list) => { if (Array.isArray(list)) for (const c of list) receive(c); });
  socket.on("event.updated", eventUpdated);
  socket.on("disconnect", (reason) => {
    conn++;
    syncing = false;
    if (fatal) return;
    status("reconnecting");
    if (reason === "io server disconnect") setTimeout(reconnect, RETRY_MS);
  });
  socket.on("connect_error", (err) => {
    if (socket.active) {
      status("reconnecting", navigator.onLine ? "Cannot reach the server — retrying…" : "");
      return;
    }
    const data = err?.data || {};
    const message = data.message || err?.message || "Could not connect.";
    if (FATAL.has(data.code)) return stop({ code: data.code, message });
    status("reconnecting", message);
    clearTimeout(timer);
    timer = setTimeout(reconnect, data.code === "too_many_attempts" ? (data.retry_after || 10) * 1000 : RETRY_MS);
  });
  socket.on("presence", (p) => {
    if (!p || typeof p !== "object") return;
    // The console and dashboards get every changed table's count in one message.
    const counts = p.tables && typeof p.tables === "object" ? p.tables
      : p.table ? { [p.table]: p.count } : null;
    if (!counts) return;
    state.presence = { ...state.presence, ...counts };
    opts.onPresence?.(p, state);
  });
  socket.on("kicked", (msg) => stop({
    code: msg?.code || "kicked",
    message: msg?.message || "Disconnected by the server. Reload the page to continue.",
  }));

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible" || state.stopped) return;
    if (socket.connected) sync(PROBE_MS);
    else reconnect();
  });
  addEventListener("online", reconnect);
  addEventListener("pageshow", (e) => { if (e.persisted) reconnect(); });
  addEventListener("offline", () => { socket.io.engine?.close(); status("reconnecting"); });

  status("connecting");

  /** A table's notes of a stage that anyone may see, best first: starred, then votes. */
  function ranked(tableId, stage) {
    const out = [];
    for (const id of state.byTable.get(tableId) || []) {
      const n = state.notes.get(id);
      if (n && n.stage === stage && !n.hidden && !n.private) out.push(n);
    }
    return out.sort((a, b) => (b.starred - a.starred) || ((b.votes || 0) - (a.votes || 0)) || (a.at - b.at));
  }

  const live = {
    socket,
    state,
    request,
    sync,
    takeEvent,
    ranked,
    /** Ideas rising to the top at a table: starred or voted for, this stage. */
    top(tableId) {
      const t = state.tables.get(tableId);
      return t ? ranked(tableId, t.stage).filter((n) => n.starred || (n.votes || 0) > 0) : [];
    },
    /** The latest public notes of a table's current stage, newest first. */
    latest(tableId) {
      const t = state.tables.get(tableId);
      return t ? ranked(tableId, t.stage).sort((a, b) => b.at - a.at) : [];
    },
    summary(tableId) {
      const t = state.tables.get(tableId);
      return t ? state.summaries.get(tableId)?.[t.stage] || "" : "";
    },
    now: () => Date.now() + state.offset,
    remaining: () => remainingMs(state.event, state.offset),
    locked: (t) => !!(state.event?.locked || t.locked),
    plural,
  };
  globalThis.plenary = { socket, state, live };
  return live;
}
