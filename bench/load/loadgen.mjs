// Load generator for bench/load_bench.py: holds thousands of socket.io clients in one
// Node process and plays a scenario against a server (Plenary or the bare baseline).
//
//   node loadgen.mjs PLAN.json
//
// PLAN: {url, tables: [{join_code}], phones_per_table, dashboards, dashboard_token,
//        organiser_token, start_stage, steps: [{rate, seconds} | {moves}]}
// Prints one JSON line per phase boundary ({"phase": ...}) so the caller can sample
// the server's CPU and memory, then a final {"result": {...}} line.

import { readFileSync } from "node:fs";
import { randomBytes, randomUUID } from "node:crypto";
import { io } from "socket.io-client";
import parser from "socket.io-msgpack-parser";

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const now = () => performance.now();
const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- connecting ---------------------------------------------------------------

// plan.spread_addresses: each table's phones connect from their own loopback address
// (127.1.x.y), as phones from many networks would, so that the per-address join limit
// (300 a minute) does not cap a benchmark whose clients all run on one machine.
function open(auth, n) {
  const local = plan.spread_addresses && n !== undefined
    ? { localAddress: `127.1.${(n >> 8) & 255}.${(n & 255) || 1}` } : {};
  return new Promise((resolve, reject) => {
    const socket = io(plan.url, {
      transports: ["websocket"], parser, auth, forceNew: true, reconnection: false,
      timeout: 60000, ...local,
    });
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => reject(new Error(`${err.message} ${JSON.stringify(err.data ?? "")}`)));
  });
}

function call(socket, event, payload, ms = 60000) {
  return socket.timeout(ms).emitWithAck(event, payload);
}

/** Run fn over items with at most `limit` in flight. */
async function pool(items, limit, fn) {
  let next = 0;
  const results = new Array(items.length);
  async function worker() {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

// Receptions of each (table, seq), by phones and by dashboards: when each screen got it.
const received = { phone: new Map(), dashboard: new Map() };
function record(client, change, t) {
  const key = `${change.table}:${change.seq}`;
  const map = received[client.role];
  let list = map.get(key);
  if (!list) map.set(key, (list = []));
  list.push(t);
}

// The first time each screen saw the event reach a stage (for advance-to-all).
let targetStage = -1;
const reached = new Map();  // socket id -> time
function sawStage(client, stage, t) {
  if (stage === targetStage && !reached.has(client.n)) reached.set(client.n, t);
}

function watch(client) {
  const { socket } = client;
  socket.on("change", (change) => {
    const t = now();
    record(client, change, t);
    if (change.type === "stage.changed") sawStage(client, change.data.stage, t);
  });
  socket.on("changes", (batch) => {
    const t = now();
    for (const change of batch) {
      record(client, change, t);
      if (change.type === "stage.changed") sawStage(client, change.data.stage, t);
    }
  });
  socket.on("event.updated", (msg) => sawStage(client, msg.event.stage, now()));
}

const clients = [];
const phones = [];
const joinMs = [];
let failedJoins = 0;

async function joinPhone(spec, n) {
  const t0 = now();
  try {
    const socket = await open({ join_code: spec.join_code, participant_key: randomBytes(16),
                                name: null }, Math.floor(n / plan.phones_per_table));
    const client = { n, socket, table: null, role: "phone" };
    watch(client);  // before the sync: nothing sent after the snapshot is missed
    const snap = await call(socket, "sync", {});
    client.table = snap.you?.table ?? spec.join_code;
    joinMs.push(now() - t0);
    clients.push(client);
    phones.push(client);
  } catch (err) {
    failedJoins++;
    if (failedJoins <= 3) console.error("join failed:", err.message);
  }
}

// --- the scenario ---------------------------------------------------------------

const posts = [];     // {key, sent, acked, table}
const refused = {};

function post(client) {
  const sent = now();
  const entry = { sent, acked: null, key: null, table: client.table };
  posts.push(entry);
  call(client.socket, "note.post", { id: randomUUID().replaceAll("-", ""), text: "an idea from the load generator" })
    .then((ack) => {
      entry.acked = now();
      if (ack.ok) entry.key = `${client.table}:${ack.seq}`;
      else refused[ack.error.code] = (refused[ack.error.code] ?? 0) + 1;
    })
    .catch(() => { refused.timeout = (refused.timeout ?? 0) + 1; });
}

async function steady(rate, seconds) {
  // A tick every 10 ms, carrying the notes due by then: steady, not bursty.
  const start = now();
  let sent = 0;
  while (now() - start < seconds * 1000) {
    const due = Math.floor(((now() - start) / 1000) * rate);
    for (; sent < due; sent++) post(phones[Math.floor(Math.random() * phones.length)]);
    await sleep(10);
  }
}

async function settle(ms = 10000) {
  const deadline = now() + ms;
  while (posts.some((p) => p.acked === null) && now() < deadline) await sleep(50);
  await sleep(1500);  // dashboards batch every 250 ms; late peers
}

function pct(values, q) {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

function summarise(list, counts) {
  const ack = [], peer = [], dash = [];
  let delivered = 0, expected = 0;
  for (const p of list) {
    if (p.acked === null || p.key === null) continue;
    ack.push(p.acked - p.sent);
    // Every phone at the table (the author too) and every dashboard.
    expected += (counts[p.table] ?? 0) + plan.dashboards;
    for (const t of received.phone.get(p.key) ?? []) { peer.push(t - p.sent); delivered++; }
    for (const t of received.dashboard.get(p.key) ?? []) { dash.push(t - p.sent); delivered++; }
  }
  const acked = list.filter((p) => p.key !== null);
  const span = acked.length ? (Math.max(...acked.map((p) => p.acked)) - list[0].sent) / 1000 : 0;
  return { posts: list.length, accepted: ack.length, throughput: span ? ack.length / span : null,
           ack_p50: pct(ack, 0.5), ack_p99: pct(ack, 0.99),
           peer_p50: pct(peer, 0.5), peer_p99: pct(peer, 0.99),
           dash_p50: pct(dash, 0.5), dash_p99: pct(dash, 0.99),
           delivered, expected, delivered_ratio: expected ? delivered / expected : null };
}

async function move(organiser, from, n) {
  targetStage = from + 1;
  reached.clear();
  say({ phase: `move ${n}`, begin: true });
  const sent = now();
  const ack = await call(organiser, "stage.next", { from }).catch(
    (err) => ({ ok: false, error: { code: err.message } }));
  const ackMs = now() - sent;
  const deadline = now() + 20000;
  while (reached.size < clients.length && now() < deadline) await sleep(5);
  const times = [...reached.values()].map((t) => t - sent);
  say({ phase: `move ${n}`, end: true });
  await sleep(2000);
  return { ok: ack.ok, error: ack.error?.code, ack_ms: ackMs, screens: clients.length,
           reached: reached.size, p50: pct(times, 0.5), p99: pct(times, 0.99),
           max: times.length ? Math.max(...times) : null };
}

async function main() {
  const specs = [];
  for (const t of plan.tables) for (let i = 0; i < plan.phones_per_table; i++) specs.push(t);
  const t0 = now();
  await pool(specs, plan.join_concurrency ?? 200, joinPhone);
  const joinSeconds = (now() - t0) / 1000;
  for (let i = 0; i < plan.dashboards; i++) {
    const socket = await open({ token: plan.dashboard_token });
    const client = { n: specs.length + i, socket, role: "dashboard" };
    watch(client);
    await call(socket, "sync", {});
    clients.push(client);
  }
  const organiser = await open({ token: plan.organiser_token });
  say({ phase: "connected", connections: clients.length + 1, join_seconds: joinSeconds,
        joins_per_s: phones.length / joinSeconds, failed_joins: failedJoins,
        join_p50: pct(joinMs, 0.5), join_p99: pct(joinMs, 0.99) });

  const counts = {};
  for (const p of phones) counts[p.table] = (counts[p.table] ?? 0) + 1;
  const phases = [];
  const moves = [];
  let stage = plan.start_stage;
  for (const step of plan.steps) {
    if (step.moves) {
      for (let i = 0; i < step.moves; i++) moves.push(await move(organiser, stage++, moves.length + 1));
      continue;
    }
    const name = `posting ${step.rate}/s`;
    const from = posts.length;
    say({ phase: name, begin: true });
    await steady(step.rate, step.seconds);
    await settle();
    phases.push({ rate: step.rate, seconds: step.seconds, ...summarise(posts.slice(from), counts),
                  refused: { ...refused } });
    for (const k of Object.keys(refused)) delete refused[k];
    say({ phase: name, end: true });
  }
  say({ result: { connections: clients.length + 1, phones: phones.length,
                  join_seconds: joinSeconds, joins_per_s: phones.length / joinSeconds,
                  failed_joins: failedJoins, join_p50: pct(joinMs, 0.5),
                  join_p99: pct(joinMs, 0.99), phases, moves } });
  if (plan.hold) {
    // Keep every connection open until the caller closes our stdin (it times the
    // server's shutdown with all of them connected).
    process.stdin.on("end", () => process.exit(0));
    process.stdin.resume();
    return;
  }
  for (const c of clients) c.socket.close();
  organiser.close();
  process.exit(0);
}

main().catch((err) => { console.error(err); process.exit(1); });
