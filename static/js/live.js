// The live connection every page shares (docs/protocol.md): connect, sync, apply changes
// in seq order. User text only ever reaches the page through textContent.

const ACK_MS = 10000; // an answer takes milliseconds; after 10 s the connection is dead
const PROBE_MS = 5000; // a phone waking up: a connection that cannot answer in 5 s is dead
const RETRY_MS = 3000;
const FATAL = new Set(["bad_join_code", "bad_token", "unauthenticated", "invalid_payload"]);

/** An element; "text" goes in as textContent, never as HTML. */
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v);
  }
  el.append(...kids.flat().filter((k) => k != null && k !== false));
  return el;
}

export const $ = (id) => document.getElementById(id);

export function say(el, text) {
  el.textContent = text || "";
  el.hidden = !text;
}

/** Hex of n random bytes. (crypto.randomUUID needs https; venue LANs are plain http.) */
export function randomHex(n) {
  return Array.from(crypto.getRandomValues(new Uint8Array(n)), (x) => x.toString(16).padStart(2, "0")).join("");
}

/** localStorage that never throws (private browsing, full, disabled). */
export const store = {
  get(k) { try { return JSON.parse(localStorage.getItem(k)); } catch { return null; } },
  set(k, v) { try { localStorage.setItem(k, JSON.stringify(v)); } catch { /* kept in memory only */ } },
};

export const clock = (ms) => new Date(ms).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
export const plural = (n, one) => `${n} ${n === 1 ? one : one + "s"}`;

/** Whether the table's current step takes notes (the server has the last word). */
export function postingOpen(event, table) {
  const kind = event.template.stages[table.stage]?.steps[table.step]?.kind;
  return event.status === "live" && ["write", "reveal", "discuss"].includes(kind);
}

/** A note still in silent writing: the server says so on the note (`private`); an older
 *  server did not, so fall back to "a private step with no reveal step reached since". */
export function isPrivate(event, table, note) {
  if (typeof note.private === "boolean") return note.private;
  const steps = event.template.stages[note.stage]?.steps || [];
  if (note.stage !== table.stage || !steps[note.step]?.private) return false;
  for (let i = note.step + 1; i <= table.step; i++) if (steps[i]?.kind === "reveal") return false;
  return true;
}

/** The step the table is on (or undefined). */
export const stepOf = (event, table) => event.template.stages[table.stage]?.steps[table.step];

/** Whether vote counts are kept from participants right now (a blind vote step). */
export function countsBlind(event, table) {
  return (event.template.vote_counts || "after_vote") === "after_vote" && stepOf(event, table)?.kind === "vote";
}

/** Dots each participant has in a stage. The event on the wire does not carry the
 *  template's votes_per_participant: 3 is the template default, and the page corrects
 *  itself from the server's votes_left as soon as it votes. */
export function votesFor(event, stage) {
  const s = event.template.stages[stage];
  return s?.votes ?? event.template.votes_per_participant ?? 3;
}

/** Run fn at most once per `ms` while called repeatedly; always once more after the last call. */
export function debounce(fn, ms) {
  let t = 0;
  const d = (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
  d.cancel = () => clearTimeout(t);
  return d;
}

/** Apply one change to the table's board (t is state.table). Unknown types only advance seq. */
function apply(state, t, c, opts) {
  const d = c.data || {};
  applyToBoard(state, t, c.type, d, opts);
  if (c.type === "step.changed" || c.type === "stage.changed") {
    t.stage = d.stage;
    t.step = d.step;
    if (c.type === "stage.changed") {
      state.event.stage = d.stage;
      t.ready = false; // the server clears every table's ready flag when the stage moves
    }
  } else if (c.type === "event.status") {
    state.event.status = d.status;
  } else if (c.type === "table.ready") {
    t.ready = !!d.ready;
  } else if (c.type === "table.locked") {
    t.locked = !!d.locked;
  }
  t.seq = c.seq;
}

/** A table's whole board (participant, facilitator): notes, groups, votes, summaries. */
function applyToBoard(state, t, type, d, opts) {
  const notes = state.notes;
  const staff = state.you?.role !== "participant";
  const put = (note) => {
    // A hidden note never belongs on a participant's board, whatever message carries it.
    if (!staff && note.hidden) return void notes.delete(note.id);
    const old = notes.get(note.id);
    notes.set(note.id, { ...note, mine: !!old?.mine || !!note.mine || opts.isMine(note),
      votes: note.votes ?? old?.votes ?? null });
  };
  const n = notes.get(d.id);
  switch (type) {
    case "note.added": case "note.edited": put(d.note); break;
    case "note.deleted": notes.delete(d.id); break;
    case "notes.revealed":
      for (const x of notes.values()) if (x.stage === d.stage) x.private = false;
      for (const x of d.notes || []) put({ ...x, private: false });
      break;
    case "note.starred": if (n) n.starred = !!d.starred; break;
    case "note.hidden":
      if (!staff) notes.delete(d.id);
      else if (n) n.hidden = true;
      break;
    case "note.shown":
      if (n) n.hidden = false;
      else if (d.note) put(d.note);
      break;
    case "note.merged": {
      const into = notes.get(d.into);
      if (into && typeof d.votes === "number") into.votes = d.votes; // null while blind
      for (const v of state.myVotes.values()) if (v.note === d.id) v.note = d.into;
      notes.delete(d.id);
      break;
    }
    case "note.grouped": if (n) n.group = d.group ?? null; break;
    case "group.saved": state.groups.set(d.group.id, d.group); break;
    case "group.deleted":
      state.groups.delete(d.id);
      for (const x of notes.values()) if (x.group === d.id) x.group = null;
      break;
    case "vote.added": case "vote.removed": {
      const v = d.vote || {};
      if (type === "vote.added" && (state.myVotes.has(v.id) || opts.isMyVote(v))) {
        state.myVotes.set(v.id, { id: v.id, note: v.note, stage: t.stage });
      } else if (type === "vote.removed") state.myVotes.delete(v.id);
      const target = notes.get(v.note);
      // While counts are blind the server sends null, and the pages hide what they had.
      if (target && typeof d.votes === "number" && !countsBlind(state.event, t)) target.votes = d.votes;
      break;
    }
    case "votes.revealed":
      for (const x of notes.values()) if (x.stage === d.stage) x.votes = d.votes?.[x.id] || 0;
      break;
    case "summary.changed": state.summaries[d.stage] = d.text; break;
    default: break;
  }
}

// The live board of one table, for participants and facilitators (the console and the
// dashboard watch every table through event-live.js).
// opts: auth, onSnapshot, onChange(change, state, replayed),
// onSynced, onFatal(err), onPresence(presence, state), onEvent(state) (event.updated),
// onStatus(kind), isMine(note),
// isMyVote(vote), pending() (what is waiting to be sent, for the status line: a number
// of notes, or words such as "3 changes").
export function connectLive(opts) {
  const isMine = opts.isMine || (() => false);
  const fns = { isMine, isMyVote: opts.isMyVote || (() => false) };
  const statusEl = $("status");
  // offset: the server's clock minus ours (ms), so a timer shows the same time on every screen.
  const state = {
    loaded: false, stopped: false, status: "", event: null, you: null, presence: null, offset: 0,
    table: null, notes: new Map(), groups: new Map(), summaries: {}, myVotes: new Map(),
  };

  const socket = globalThis.io({
    auth: opts.auth,
    transports: ["websocket"],
    tryAllTransports: true, // a proxy that blocks websockets still gets long-polling
    reconnectionDelay: 1000,
    reconnectionDelayMax: 10000,
  });

  let conn = 0; // bumps on every connect and disconnect: answers to an old connection are dropped
  let syncing = false;
  let again = false;
  let buffer = [];
  let fatal = null;
  let timer = 0;
  let lastSync = 0;
  let gapTries = 0;
  let resyncTimer = 0;

  function status(kind, text) {
    state.status = kind;
    if (!text) {
      const n = opts.pending ? opts.pending() : 0;
      const what = typeof n === "number" ? (n ? plural(n, "note") : "") : n;
      const waiting = what ? `${what} will be sent when you reconnect` : "";
      if (kind === "connected") text = what ? `Connected — sending ${what}…` : "Connected";
      else if (kind === "connecting") text = "Connecting…";
      else if (!navigator.onLine) text = `Offline — ${waiting || "the board will update when you reconnect"}`;
      else text = `Reconnecting… ${waiting}`.trim();
    }
    if (statusEl.textContent !== text) statusEl.textContent = text;
    statusEl.dataset.state = kind;
    opts.onStatus?.(kind);
  }

  /** Send one event and wait for its acknowledgement; never throws. */
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

  async function sync(ms) {
    if (syncing) { again = true; return; }
    syncing = true;
    again = false;
    const mine = conn;
    const ack = await request("sync", { since: state.loaded ? state.table.seq : null }, ms);
    if (mine !== conn) return; // that connection is gone; the next one syncs itself
    syncing = false;
    lastSync = Date.now();
    if (!ack.ok) {
      const code = ack.error?.code;
      if (code === "bad_token" || code === "forbidden") return stop(ack.error);
      // No answer: the connection is dead even if it looks open. Start a fresh one.
      if (code === "timeout") return socket.io.engine?.close();
      clearTimeout(timer);
      timer = setTimeout(() => socket.connected && sync(), RETRY_MS);
      return;
    }
    if (ack.presence) state.presence = ack.presence;
    if (typeof ack.server_time === "number") state.offset = ack.server_time - Date.now();
    if (ack.mode === "snapshot") load(ack);
    else {
      for (const c of ack.changes) handle(c, true);
      // Event-wide settings (timer, message, lock) are not in a table's log: the answer
      // carries the event as it is now.
      if (ack.event && state.event) state.event = { ...state.event, ...ack.event };
    }
    state.loaded = true;
    status("connected");
    if (ack.mode === "snapshot") opts.onSnapshot?.(state);
    if (again) return sync();
    const waiting = buffer.sort((x, y) => x.seq - y.seq);
    buffer = [];
    for (const c of waiting) syncing ? buffer.push(c) : handle(c);
    opts.onSynced?.(state);
  }

  // A gap a sync has just failed to fill must not spin: wait a second between syncs.
  function resync() {
    const wait = lastSync + 1000 - Date.now();
    if (wait <= 0) sync();
    else if (!resyncTimer) resyncTimer = setTimeout(() => { resyncTimer = 0; sync(); }, wait);
  }

  function load(ack) {
    state.event = ack.event;
    state.you = ack.you;
    state.table = { ...ack.table, seq: ack.seq };
    state.notes = new Map(ack.notes.map((n) => [n.id, { ...n, mine: !!n.mine || isMine(n) }]));
    state.groups = new Map((ack.groups || []).map((g) => [g.id, g]));
    state.summaries = { ...(ack.summaries || {}) };
    state.myVotes = new Map((ack.my_votes || []).map((v) => [v.id, { ...v, stage: ack.table.stage }]));
  }

  function handle(c, replayed) {
    const t = state.table;
    if (!t) return resync(); // a table we have never seen: take a fresh snapshot
    if (c.table !== t.id) return;
    if (c.seq <= t.seq) return;
    if (c.seq > t.seq + 1) {
      buffer.push(c);
      if (syncing || resyncTimer) return;
      // The server commits before it broadcasts, so a sync fills any real gap. One that
      // survives three syncs never will: drop what is waiting rather than spin.
      if (++gapTries > 3) { buffer = []; gapTries = 0; return; }
      return resync();
    }
    gapTries = 0;
    apply(state, t, c, fns);
    opts.onChange?.(c, state, !!replayed);
  }

  function stop(err) {
    fatal = err;
    state.stopped = true;
    socket.disconnect();
    status("stopped", err.message);
    opts.onFatal?.(err);
  }

  // Now, not after socket.io's back-off: the phone woke up, or the network is back.
  // Not while the device says it is offline: that would only cost battery.
  function reconnect() {
    if (state.stopped || socket.connected || !navigator.onLine) return;
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

  const receive = (c) => {
    if (typeof c?.seq !== "number") return;
    if (syncing || !state.loaded) buffer.push(c);
    else handle(c);
  };
  socket.on("change", receive);
  // A stage move reaches a table as one batch (reveal and move), in seq order.
  socket.on("changes", (list) => { if (Array.isArray(list)) for (const c of list) receive(c); });

  socket.on("disconnect", (reason) => {
    conn++;
    syncing = false;
    if (fatal) return;
    status("reconnecting");
    // The server closed this connection on purpose but did not say "kicked": come back.
    if (reason === "io server disconnect") setTimeout(reconnect, RETRY_MS);
  });

  socket.on("connect_error", (err) => {
    if (socket.active) { // a network problem: socket.io retries by itself
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

  // The organiser changed the timer, the message, the spotlight or the lock.
  socket.on("event.updated", (msg) => {
    if (!msg?.event || !state.event) return;
    state.event = { ...state.event, ...msg.event };
    if (typeof msg.server_time === "number") state.offset = msg.server_time - Date.now();
    opts.onEvent?.(state);
  });

  socket.on("presence", (p) => {
    if (!p || typeof p !== "object") return;
    state.presence = p;
    opts.onPresence?.(p, state);
  });

  socket.on("kicked", (msg) => stop({
    code: msg?.code || "kicked",
    message: msg?.message || "Disconnected by the server. Reload the page to continue.",
  }));

  // A phone that slept may hold a dead connection that still looks open: prove it.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible" || state.stopped) return;
    if (socket.connected) sync(PROBE_MS);
    else reconnect();
  });
  addEventListener("online", () => {
    socket.io.reconnection(true);
    reconnect();
  });
  // Back from the back/forward cache (iOS Safari keeps pages there): its socket is gone.
  addEventListener("pageshow", (e) => { if (e.persisted) reconnect(); });
  addEventListener("offline", () => {
    // Nothing gets through while the device is offline: say so now, not 45 s later, and
    // stop retrying until it says it is back ("online" above).
    socket.io.reconnection(false);
    socket.io.engine?.close();
    status("reconnecting");
  });
  if (!navigator.onLine) socket.io.reconnection(false);

  status("connecting");
  const live = {
    socket,
    state,
    request,
    sync,
    refreshStatus() {
      if (!state.stopped) status(socket.connected ? (state.loaded ? "connected" : "connecting") : "reconnecting");
    },
    setAuth(patch) {
      Object.assign(socket.auth, patch);
      if (state.stopped) return;
      socket.disconnect();
      socket.connect();
    },
  };
  globalThis.plenary = { socket, state, live };
  return live;
}

/** Polite screen-reader news, one announcement per burst: "3 new notes", not three. */
export function announcer(el, ms = 2000) {
  let count = 0;
  let timer = 0;
  return (n = 1) => {
    if (!n) return;
    count += n;
    if (timer) return;
    timer = setTimeout(() => {
      timer = 0;
      // A new node each time: screen readers announce an addition even when the words repeat.
      el.replaceChildren(h("p", { text: count === 1 ? "1 new note" : `${count} new notes` }));
      count = 0;
    }, ms);
  };
}

/** The stage timer in words ("12:34 left", "Time is up"), or "" when none runs. */
export function timerWords(event, offset = 0) {
  const tm = event?.timer;
  if (!tm || !tm.state || tm.state === "stopped") return "";
  const ms = tm.state === "running" && tm.ends_at != null ? tm.ends_at - (Date.now() + offset) : tm.remaining_ms;
  if (ms == null) return "";
  const s = Math.max(0, Math.ceil(ms / 1000));
  const clockText = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  if (tm.state === "paused") return `Timer paused: ${clockText} left`;
  return s ? `${clockText} left` : "Time is up";
}

/** Whether the organiser has locked this table's board (participants read, not write). */
export const locked = (event, table) => !!(event?.locked || table?.locked);

/** fn, at most once per frame however many changes arrive in a burst (a reveal, a flush). */
export function perFrame(fn) {
  let waiting = false;
  const run = () => { waiting = false; fn(); };
  return () => {
    if (waiting) return;
    waiting = true;
    // A hidden tab gets no frames: draw it a little later instead.
    if (document.visibilityState === "visible") requestAnimationFrame(run);
    else setTimeout(run, 100);
  };
}
