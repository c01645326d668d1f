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

/** A note from a private step stays hidden from others until a later reveal step. */
export function isPrivate(event, table, note) {
  const steps = event.template.stages[note.stage]?.steps || [];
  if (note.stage !== table.stage || !steps[note.step]?.private) return false;
  for (let i = note.step + 1; i <= table.step; i++) if (steps[i]?.kind === "reveal") return false;
  return true;
}

/** Apply one change to a table (participant, facilitator: t is state.table) or to the
 *  event's copy of it (organiser, dashboard). Unknown types only advance seq. */
function apply(state, t, c, isMine) {
  const d = c.data || {};
  if (c.type === "note.added") {
    if (state.notes) state.notes.set(d.note.id, { ...d.note, mine: isMine(d.note) });
    else {
      t.notes[d.note.stage] = (t.notes[d.note.stage] || 0) + 1;
      // Enough to show the latest 3 once private notes are skipped.
      state.recent.set(t.id, [d.note, ...(state.recent.get(t.id) || [])].slice(0, 30));
    }
  } else if (c.type === "step.changed" || c.type === "stage.changed") {
    t.stage = d.stage;
    t.step = d.step;
    if (c.type === "stage.changed") state.event.stage = d.stage;
  } else if (c.type === "event.status") {
    state.event.status = d.status;
  }
  t.seq = c.seq;
}

// opts: auth, scope ("table" or "event"), onSnapshot, onChange(change, state, replayed),
// onSynced, onFatal(err), isMine(note), pending() (notes waiting, for the status line).
export function connectLive(opts) {
  const table = opts.scope === "table";
  const isMine = opts.isMine || (() => false);
  const statusEl = $("status");
  const state = { loaded: false, stopped: false, status: "", event: null, you: null };
  Object.assign(state, table ? { table: null, notes: new Map() } : { tables: new Map(), recent: new Map() });

  const socket = globalThis.io({
    auth: opts.auth,
    transports: ["websocket", "polling"],
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
      const waiting = n ? `${plural(n, "note")} will be sent when you reconnect` : "";
      if (kind === "connected") text = n ? `Connected — sending ${plural(n, "note")}…` : "Connected";
      else if (kind === "connecting") text = "Connecting…";
      else if (!navigator.onLine) text = `Offline — ${waiting || "the board will update when you reconnect"}`;
      else text = `Reconnecting… ${waiting}`.trim();
    }
    statusEl.textContent = text;
    statusEl.dataset.state = kind;
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
    const ack = await request("sync", { since: table && state.loaded ? state.table.seq : null }, ms);
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
    if (ack.mode === "snapshot") load(ack);
    else for (const c of ack.changes) handle(c, true);
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
    if (table) {
      state.table = { ...ack.table, seq: ack.seq };
      state.notes = new Map(ack.notes.map((n) => [n.id, { ...n, mine: !!n.mine || isMine(n) }]));
    } else {
      state.tables = new Map(ack.tables.map((t) => [t.id, t]));
      state.recent = new Map();
      for (const n of [...ack.recent].sort((a, b) => b.at - a.at)) {
        state.recent.set(n.table, [...(state.recent.get(n.table) || []), n]);
      }
    }
  }

  function handle(c, replayed) {
    const t = table ? state.table : state.tables.get(c.table);
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
    apply(state, t, c, isMine);
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

  socket.on("change", (c) => {
    if (typeof c?.seq !== "number") return;
    if (syncing || !state.loaded) buffer.push(c);
    else handle(c);
  });

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
  addEventListener("online", reconnect);
  addEventListener("offline", () => {
    // Nothing gets through while the device is offline: say so now, not 45 s later.
    socket.io.engine?.close();
    status("reconnecting");
  });

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
