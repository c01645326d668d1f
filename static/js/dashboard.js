// The plenary dashboard: every table's progress on the projector, readable from the back of the hall.
import { $, connectLive, h, isPrivate, plural, say } from "./live.js";

const token = location.hash.slice(1);
const tiles = new Map(); // table id -> its tile

function fatal(message) {
  say($("fatal-message"), message);
  $("fatal").hidden = false;
  $("status").textContent = "Not connected";
  $("main").hidden = true;
}

const live = token ? connectLive({
  scope: "event",
  auth: { token },
  onSnapshot: () => { renderHead(); buildTiles(); },
  onChange(c, state, replay) {
    if (c.type === "stage.changed" || c.type === "event.status") {
      const before = $("stage-title").textContent;
      renderHead();
      if (!replay && c.type === "stage.changed" && $("stage-title").textContent !== before) {
        announce(`${$("stage-count").textContent}: ${$("stage-title").textContent}`);
      }
    }
    updateTile(c.table, c.type === "note.added");
  },
  onFatal: (err) => { if (err.code !== "abuse" && err.code !== "kicked") fatal(err.message); },
}) : null;
if (!live) fatal("This link is missing its key (the part after #). Open the full dashboard link again.");

function announce(text) {
  $("announce").textContent = text;
}

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
  say(banner, event.status === "draft" ? "Starting soon" : event.status === "closed" ? "The event has closed. Thank you!" : "");
  banner.dataset.status = event.status;
}

function layout(n) {
  // Columns and rows that fill a 16:9 screen without scrolling, for up to 24 tables.
  const cols = n <= 3 ? Math.max(n, 1) : n <= 4 ? 2 : n <= 8 ? 4 : n <= 12 ? 4 : n <= 15 ? 5 : n <= 18 ? 6 : n <= 24 ? 6 : 8;
  const rows = Math.ceil(n / cols);
  const board = $("tiles");
  board.style.setProperty("--cols", cols);
  board.style.setProperty("--rows", rows);
  document.body.classList.toggle("many", rows > 4);
  board.dataset.size = n <= 8 ? "large" : n <= 16 ? "medium" : "small";
  return n <= 8 ? 3 : n <= 16 ? 2 : 1; // latest notes per tile
}

let perTile = 3;

function buildTiles() {
  tiles.clear();
  const sorted = [...live.state.tables.values()].sort((a, b) => a.number - b.number);
  perTile = layout(sorted.length);
  $("tiles").replaceChildren(...sorted.map((t) => {
    const tile = h("li", { class: "tile", "data-table": t.id },
      h("div", { class: "tile-head" },
        h("div", { class: "tile-name" }, h("h3", { class: "tile-number", text: `Table ${t.number}` }), h("p", { class: "tile-step" })),
        h("p", { class: "tile-count" }, h("span", { class: "big" }), h("span", { class: "unit" }))),
      h("p", { class: "tile-topic", title: t.topic?.title || null, text: t.topic?.title || "" }),
      h("ul", { class: "latest", "aria-label": `Latest notes at table ${t.number}` }),
      h("p", { class: "tile-private" }));
    tiles.set(t.id, tile);
    fillTile(t, tile);
    return tile;
  }));
  document.querySelectorAll(".latest").forEach(fit);
}

function fillTile(t, tile) {
  const { event } = live.state;
  const count = t.notes?.[t.stage] || 0;
  tile.querySelector(".big").textContent = count;
  tile.querySelector(".unit").textContent = count === 1 ? " note this stage" : " notes this stage";
  const recent = (live.state.recent.get(t.id) || []).filter((n) => n.stage === t.stage);
  const shown = recent.filter((n) => !isPrivate(event, t, n));
  const priv = recent.length - shown.length;
  const list = tile.querySelector(".latest");
  list.replaceChildren(...shown.slice(0, perTile).map((n) =>
    h("li", { class: "latest-note", dir: "auto" }, h("span", { text: n.text }))));
  fit(list);
  const step = event.template.stages[t.stage]?.steps[t.step];
  tile.querySelector(".tile-step").textContent = step ? `Step ${t.step + 1}: ${step.title}` : "";
  say(tile.querySelector(".tile-private"), priv ? `${plural(priv, "note")} private until revealed` : "");
}

/** Hide the notes that do not fit whole in their tile: never half a note on the screen. */
function fit(list) {
  if (!list.isConnected) return;
  for (const li of list.children) li.hidden = false;
  const room = list.clientHeight;
  let over = false;
  for (const li of list.children) {
    over ||= li.offsetTop + li.offsetHeight > room + 1;
    li.hidden = over;
  }
}

let resizeTimer = 0;
addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => document.querySelectorAll(".latest").forEach(fit), 100);
});

function updateTile(id, flash) {
  const t = live.state.tables.get(id);
  const tile = tiles.get(id);
  if (!t || !tile) return buildTiles();
  fillTile(t, tile);
  if (flash && matchMedia("(prefers-reduced-motion: no-preference)").matches) {
    tile.classList.remove("pulse");
    void tile.offsetWidth; // restart the animation
    tile.classList.add("pulse");
  }
}
