// "What the room is saying" on the dashboard: the current stage's cross-table themes,
// or one theme with its notes from every table (docs/console-api.md, "Themes"). The
// organiser switches it on from the console (spotlight kind "themes" or "theme"); this
// module reads GET /api/events/{id}/themes with the dashboard's token, every few seconds
// while it is up, and lays the themes out in type large enough for the back of the hall.
// User text only ever reaches the page through textContent (h's "text").
import { h } from "./dom.js";

const POLL_MS = 4000;
const MAX_THEMES = 6; // per screen: more is a list nobody at the back can read

let box = null;
let timer = 0;
let shown = null; // {kind, id} being shown
let auth = "";
let eventId = "";
let drawn = ""; // the JSON last drawn, so an unchanged poll redraws nothing

/** Whether this spotlight is ours. */
export const shows = (sp) => sp?.kind === "themes" || sp?.kind === "theme";

/** Put the themes (or one theme) on the screen and keep them fresh. */
export function show(sp, event, token) {
  if (!box) box = build();
  const same = shown && shown.kind === sp.kind && shown.id === sp.id && eventId === event.id;
  shown = { kind: sp.kind, id: sp.id };
  auth = token;
  eventId = event.id;
  box.hidden = false;
  box.dataset.kind = sp.kind;
  if (!same) {
    drawn = "";
    poll();
  }
}

/** Take them off the screen. */
export function hide() {
  if (!box || box.hidden) return;
  box.hidden = true;
  shown = null;
  clearTimeout(timer);
  timer = 0;
}

function build() {
  const el = h("section", { id: "themes-view", class: "overlay themes-view", "aria-labelledby": "themes-title", hidden: true },
    h("p", { id: "themes-kicker", class: "spot-kicker" }),
    h("h2", { id: "themes-title", class: "themes-title" }),
    h("div", { id: "themes-body", class: "themes-body" }));
  (document.getElementById("main") || document.body).append(el);
  return el;
}

async function poll() {
  clearTimeout(timer);
  const wanted = shown;
  if (!wanted) return;
  const path = `/api/events/${encodeURIComponent(eventId)}/themes` +
    (wanted.kind === "theme" ? `/${encodeURIComponent(wanted.id)}` : "");
  let body = null;
  try {
    const res = await fetch(path, { headers: { authorization: `Bearer ${auth}`, accept: "application/json" }, cache: "no-store" });
    body = await res.json();
    if (!res.ok) body = { error: body?.error || { message: `The server answered ${res.status}.` } };
  } catch {
    body = null; // offline for a moment: keep what is on the screen
  }
  if (shown !== wanted) return;
  if (body) {
    const text = JSON.stringify(body);
    if (text !== drawn) {
      drawn = text;
      draw(body, wanted);
    }
  }
  timer = setTimeout(poll, POLL_MS);
}

const facts = (t) => [`${t.tables} ${t.tables === 1 ? "table" : "tables"}`,
  `${t.topics} ${t.topics === 1 ? "topic" : "topics"}`].join(" · ");

const place = (n) => `Table ${n.table_number}${n.topic ? ` · ${n.topic}` : ""}`;

function draw(body, wanted) {
  const kicker = document.getElementById("themes-kicker");
  const title = document.getElementById("themes-title");
  const main = document.getElementById("themes-body");
  if (body.error) {
    kicker.textContent = "What the room is saying";
    title.textContent = body.error.message;
    main.replaceChildren();
    return;
  }
  kicker.textContent = `What the room is saying · Stage ${body.stage + 1}`;
  if (!body.available) {
    title.textContent = "Themes are not turned on";
    main.replaceChildren(h("p", { class: "themes-empty", text: body.message }));
    return;
  }
  if (wanted.kind === "theme") return drawOne(body, title, main);
  title.textContent = body.stage_title;
  const scopes = body.scopes.filter((s) => s.themes.length);
  if (!scopes.length) {
    main.replaceChildren(h("p", { class: "themes-empty", text: "No themes yet. They appear when notes from several tables say similar things." }));
    return;
  }
  const split = scopes.length > 1 || scopes[0].label;
  main.replaceChildren(...scopes.map((s) => h("section", { class: "themes-scope", "aria-label": s.label || "Themes" },
    split ? h("h3", { class: "themes-scope-title", text: s.label || "Other notes" }) : null,
    h("ol", { class: "themes-list" }, s.themes.slice(0, split ? 3 : MAX_THEMES).map(card)))));
  if (split) main.dataset.columns = String(scopes.length);
  else delete main.dataset.columns;
  fit(main);
}

function card(t) {
  return h("li", { class: "theme-card" },
    h("p", { class: "theme-name", dir: "auto", text: t.title }),
    h("p", { class: "theme-facts", text: facts(t) }),
    h("blockquote", { class: "theme-quote", dir: "auto" },
      h("p", { text: `“${t.quote.text}”` }),
      h("footer", { text: place(t.quote) })));
}

function drawOne(body, title, main) {
  const theme = body.scopes.flatMap((s) => s.themes)[0];
  if (!theme) {
    title.textContent = "That theme is no longer on the board";
    main.replaceChildren();
    return;
  }
  title.textContent = theme.title;
  main.replaceChildren(
    h("p", { class: "theme-facts theme-facts-big", text: `${facts(theme)} · ${theme.notes} notes` }),
    h("ul", { class: "theme-members" }, (theme.members || []).map((n) =>
      h("li", { class: "theme-member", dir: "auto" }, h("span", { text: n.text }), h("small", { text: place(n) })))));
  delete main.dataset.columns;
  fit(main);
}

/** Drop whole cards or notes from the end of each column until what is left fits. */
function fit(main) {
  const boxes = [...main.querySelectorAll(".themes-scope")];
  for (const box of boxes.length ? boxes : [main]) {
    const items = [...box.querySelectorAll(".theme-card, .theme-member")];
    for (const el of items) el.hidden = false;
    for (let i = items.length - 1; i > 0 && box.scrollHeight > box.clientHeight + 1; i--) items[i].hidden = true;
  }
}

// For tests: what is on the screen now.
globalThis.plenaryThemes = { shown: () => shown && !box?.hidden ? { ...shown } : null };
