// The one live connection every page uses (docs/protocol.md): connect, authenticate, keep
// the status line, send requests that always answer (with a timeout), reconnect when the
// device wakes or the network comes back, hold broadcasts until `sync` has answered, and
// hand the page each table's changes gap-free and in order, resyncing when one is missed.
// It keeps no board: the page feeds what it hands over ("actions") to its reducer.

const ACK_MS = 10000; // an answer takes milliseconds; after 10 s the connection is dead
const PROBE_MS = 5000; // a device waking up: a connection that cannot answer in 5 s is dead
const RETRY_MS = 3000;
// A change that arrives before the one it follows waits this long for it before a sync:
// changes committed on two server processes can cross on their way here (docs/protocol.md,
// "Sequence numbers"; the server's REORDER_WAIT_S).
const REORDER_MS = 1000;
const FATAL = new Set(["bad_join_code", "bad_token", "unauthenticated", "invalid_payload"]);

const plural = (n, one) => `${n} ${n === 1 ? one : one + "s"}`;

/**
 * Connect and keep connected. opts:
 *  auth          the socket.io auth object (docs/protocol.md "Connecting")
 *  scope         "table" (participant, facilitator: replays by seq) or "event" (console,
 *                dashboard: a fresh snapshot on every sync)
 *  dispatch(a)   every action, in order: {type: "snapshot", ack}, {type: "change", change,
 *                replayed}, {type: "event", event, server_time, tables?}, {type: "presence",
 *                presence}
 *  onSynced()    after each successful sync and the broadcasts held meanwhile
 *  onStatus(kind), onFatal(err), pending() (what waits to be sent: a number of notes, or words)
 *  statusEl      the status line (default #status)
 */
export function connect(opts) {
  const statusEl = opts.statusEl || document.getElementById("status");
  const socket = globalThis.io({
    auth: opts.auth,
    transports: ["websocket"], // the server speaks websocket only (live/channel.py)
    reconnectionDelay: 1000,
    reconnectionDelayMax: 10000,
  });
  const seqs = new Map(); // table id -> the last seq handed to the page
  const self = { socket, loaded: false, stopped: false, status: "", request, sync, setAuth, refreshStatus, reconnect };

  let conn = 0; // bumps on every connect and disconnect: answers to an old connection are dropped
  let syncing = false;
  let again = false;
  let buffer = [];
  let fatal = null;
  let timer = 0;
  let lastSync = 0;
  let gapTries = 0;
  let resyncTimer = 0;
  let reorderTimer = 0;

  // kind: connecting, connected, reconnecting, stopped; `unreachable` is reconnecting with
  // the server out of reach though the device is online.
  function status(kind, text) {
    const n = opts.pending ? opts.pending() : 0;
    const what = typeof n === "number" ? (n ? plural(n, "note") : "") : n;
    const waiting = what ? `${what} will be sent when you reconnect` : "";
    if (kind === "unreachable") {
      kind = "reconnecting";
      text = navigator.onLine ? `Cannot reach the server — retrying…${waiting ? ` ${waiting}.` : ""}` : "";
    }
    self.status = kind;
    if (!text) {
      if (kind === "connected") text = what ? `Connected — sending ${what}…` : "Connected";
      else if (kind === "connecting") text = "Connecting…";
      else if (!navigator.onLine) text = `Offline — ${waiting || "the board will update when you reconnect"}`;
      else text = `Reconnecting… ${waiting}`.trim();
    }
    if (statusEl) {
      if (statusEl.textContent !== text) statusEl.textContent = text;
      statusEl.dataset.state = kind;
    }
    opts.onStatus?.(kind);
  }

  let unreachable = false; // the last attempt failed: say so until one succeeds
  function refreshStatus() {
    if (self.stopped) return;
    if (socket.connected) status(self.loaded ? "connected" : "connecting");
    else status(unreachable ? "unreachable" : "reconnecting");
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

  const onlyTable = () => (seqs.size === 1 ? [...seqs.values()][0] : null);

  async function sync(ms) {
    if (syncing) { again = true; return; }
    syncing = true;
    again = false;
    const mine = conn;
    const since = opts.scope === "table" && self.loaded ? onlyTable() : null;
    const ack = await request("sync", { since }, ms);
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
    if (ack.mode === "snapshot") {
      seqs.clear();
      if (ack.table) seqs.set(ack.table.id, ack.seq ?? ack.table.seq);
      for (const t of ack.tables || []) seqs.set(t.id, t.seq);
      opts.dispatch({ type: "snapshot", ack });
    } else {
      for (const c of ack.changes || []) deliver(c, true);
      // Event-wide settings (timer, message, lock) are not in a table's log: the answer
      // carries the event as it is now.
      if (ack.event) opts.dispatch({ type: "event", event: ack.event, server_time: ack.server_time });
      if (ack.presence) opts.dispatch({ type: "presence", presence: ack.presence });
    }
    self.loaded = true;
    status("connected");
    if (again) return sync();
    const waiting = buffer.sort((x, y) => x.seq - y.seq);
    buffer = [];
    for (const c of waiting) handle(c);
    opts.onSynced?.();
  }

  // A gap a sync has just failed to fill must not spin: wait a second between syncs.
  function resync() {
    const wait = lastSync + 1000 - Date.now();
    if (wait <= 0) sync();
    else if (!resyncTimer) resyncTimer = setTimeout(() => { resyncTimer = 0; sync(); }, wait);
  }

  function deliver(c, replayed) {
    seqs.set(c.table, c.seq);
    opts.dispatch({ type: "change", change: c, replayed: !!replayed });
  }

  // Hand over the held changes that now follow on; drop those already had.
  function drain() {
    for (let moved = true; moved;) {
      moved = false;
      buffer = buffer.filter((c) => {
        const last = seqs.get(c.table);
        if (last === undefined || c.seq > last + 1) return true;
        if (c.seq === last + 1) { deliver(c, false); moved = true; }
        return false;
      });
    }
    if (!buffer.length && reorderTimer) { clearTimeout(reorderTimer); reorderTimer = 0; }
  }

  function gapExpired() {
    reorderTimer = 0;
    if (!buffer.length || syncing || resyncTimer) return;
    // The server commits before it broadcasts, so a sync fills any real gap. One that
    // survives three syncs never will: drop what is waiting rather than spin.
    if (++gapTries > 3) { buffer = []; gapTries = 0; return; }
    resync();
  }

  function handle(c) {
    if (syncing) return void buffer.push(c);
    const last = seqs.get(c.table);
    if (last === undefined) {
      if (opts.scope === "table") return; // another table's change: not ours
      return resync(); // a table we have never seen: take a fresh snapshot
    }
    if (c.seq <= last) return; // had it already (a duplicate after a resync)
    if (c.seq > last + 1) {
      buffer.push(c);
      if (!reorderTimer && !resyncTimer) reorderTimer = setTimeout(gapExpired, REORDER_MS);
      return;
    }
    gapTries = 0;
    deliver(c, false);
    drain();
  }

  function receive(c) {
    if (typeof c?.seq !== "number" || typeof c.table !== "string") return;
    if (syncing || !self.loaded) buffer.push(c);
    else handle(c);
  }

  function stop(err) {
    fatal = err;
    self.stopped = true;
    socket.disconnect();
    status("stopped", err.message);
    opts.onFatal?.(err);
  }

  // Now, not after socket.io's back-off: the device woke up, or the network is back.
  // Not while the device says it is offline: that would only cost battery.
  function reconnect() {
    if (self.stopped || socket.connected || !navigator.onLine) return;
    socket.disconnect();
    socket.connect();
  }

  function setAuth(patch) {
    Object.assign(socket.auth, patch);
    if (self.stopped) return;
    socket.disconnect();
    socket.connect();
  }

  socket.on("connect", () => {
    unreachable = false;
    conn++;
    syncing = false;
    buffer = [];
    status("connecting", self.loaded ? "Connected — catching up…" : "Connecting…");
    sync();
  });
  socket.on("change", receive);
  // This server process lost its link to the others for a while (Redis): what they
  // broadcast meanwhile never came. Catch up as after a reconnect.
  socket.on("resync", () => { if (socket.connected && self.loaded) sync(); });
  // A stage move: every change of this board, and the event's new state with them
  // (one message per screen instead of two).
  socket.on("changes", (list, updated) => {
    if (Array.isArray(list)) for (const c of list) receive(c);
    if (updated) eventUpdated(updated);
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
    unreachable = true;
    if (socket.active) { // a network problem: socket.io retries by itself
      status("unreachable");
      return;
    }
    const data = err?.data || {};
    const message = data.message || err?.message || "Could not connect.";
    if (FATAL.has(data.code)) return stop({ code: data.code, message });
    status("reconnecting", message);
    clearTimeout(timer);
    timer = setTimeout(reconnect, data.code === "too_many_attempts" ? (data.retry_after || 10) * 1000 : RETRY_MS);
  });
  // The organiser changed the timer, the message, the spotlight or a lock.
  function eventUpdated(msg) {
    if (!msg?.event || typeof msg.event !== "object") return;
    opts.dispatch({ type: "event", event: msg.event, server_time: msg.server_time, tables: msg.tables });
  }
  socket.on("event.updated", eventUpdated);
  socket.on("presence", (p) => { if (p && typeof p === "object") opts.dispatch({ type: "presence", presence: p }); });
  socket.on("kicked", (msg) => stop({
    code: msg?.code || "kicked",
    message: msg?.message || "Disconnected by the server. Reload the page to continue.",
  }));

  // A device that slept may hold a dead connection that still looks open: prove it.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible" || self.stopped) return;
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

  status(navigator.onLine ? "connecting" : "reconnecting");
  return self;
}
