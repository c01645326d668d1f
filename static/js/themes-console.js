// The console's "What the room is saying" panel: the current stage's cross-table themes
// (docs/console-api.md, "Themes"), putting them on the dashboard, spotlighting one, and
// the organiser's choices: rename, merge two, move a note out, hide. Reads every few
// seconds while the live view is open; every change goes through the console's session.
// User text only ever reaches the page through textContent (h's "text").
import { h } from "./dom.js";
import { api } from "./console-api.js";

const POLL_MS = 5000;

let event = null; // the event as the console's socket last saw it
let timer = 0;
let data = null; // the last GET
let drawnKey = "";
const open = new Set(); // theme ids whose notes are listed
let busy = false;

const $ = (id) => document.getElementById(id);

/** Follow the live event: called by the console with every snapshot and event update. */
export function followThemes(ev) {
  const panel = $("themes-panel");
  if (!panel || !ev) return;
  const changed = !event || event.id !== ev.id || event.stage !== ev.stage;
  const spotChanged = JSON.stringify(event?.spotlight || null) !== JSON.stringify(ev.spotlight || null);
  event = ev;
  panel.hidden = false;
  if (changed) { data = null; open.clear(); load(); } else if (spotChanged) draw();
}

const base = () => `/api/events/${encodeURIComponent(event.id)}/themes`;

async function load() {
  clearTimeout(timer);
  if (!event) return;
  const r = await api("GET", base());
  if (r.ok) data = r.data;
  else say(r.error.message);
  draw();
  timer = setTimeout(load, POLL_MS);
}

function say(text) {
  const el = $("themes-error");
  el.textContent = text || "";
  el.hidden = !text;
}

async function act(method, path, body, button) {
  if (busy) return;
  busy = true;
  if (button) button.disabled = true;
  const r = await api(method, path, body);
  busy = false;
  if (button) button.disabled = false;
  say(r.ok ? "" : r.error.message);
  if (r.ok) await load();
  return r.ok;
}

const facts = (t) => `${t.tables} ${t.tables === 1 ? "table" : "tables"} · ${t.topics} ${t.topics === 1 ? "topic" : "topics"} · ${t.notes} ${t.notes === 1 ? "note" : "notes"}`;

function draw() {
  const list = $("themes-list");
  const status = $("themes-status");
  const showBtn = $("themes-show");
  const sp = event?.spotlight;
  const onScreen = sp?.kind === "themes" || sp?.kind === "theme";
  showBtn.setAttribute("aria-pressed", String(onScreen));
  showBtn.textContent = onScreen ? "Take off the dashboard" : "Show on the dashboard";
  if (!data) { status.textContent = "Loading themes…"; return; }
  if (!data.available) {
    status.textContent = data.message;
    showBtn.disabled = true;
    $("themes-refresh").disabled = true;
    list.replaceChildren();
    return;
  }
  const themes = data.scopes.flatMap((s) => s.themes);
  status.textContent = themes.length
    ? `Stage ${data.stage + 1}: ${themes.length} ${themes.length === 1 ? "theme" : "themes"} across the tables.`
    : `Stage ${data.stage + 1}: no themes yet. They appear when notes from several tables say similar things.`;
  const key = JSON.stringify([data.scopes, sp, [...open]]);
  if (key === drawnKey) return;
  // Keep what the organiser is typing: a redraw never throws away an open rename.
  if (list.querySelector(".theme-form input:focus, .theme-form select:focus")) return;
  drawnKey = key;
  list.replaceChildren(...data.scopes.flatMap((s) => [
    s.label ? h("h3", { text: s.label }) : null,
    h("ul", { class: "theme-list" }, s.themes.map((t) => item(t, s.themes, sp))),
  ].filter(Boolean)));
}

function item(t, siblings, sp) {
  const spotted = sp?.kind === "theme" && sp.id === t.id;
  const li = h("li", { class: "theme-item", "data-theme": t.id, "data-hidden": String(t.hidden) },
    h("p", { class: "theme-head", dir: "auto", text: t.title + (t.hidden ? " (hidden)" : "") }),
    h("p", { class: "theme-sub", text: facts(t) + (t.label ? ` · automatic name: ${t.name}` : "") }),
    h("p", { class: "theme-quote-line", dir: "auto", text: `“${t.quote.text}” — Table ${t.quote.table_number}` }));
  const tools = h("div", { class: "theme-tools" },
    h("button", { type: "button", class: "small", "data-do": "spot", "aria-pressed": String(spotted), disabled: t.hidden,
      "aria-label": `Spotlight the theme ${t.title} on the dashboard` }, "Spotlight"),
    h("button", { type: "button", class: "small", "data-do": "hide",
      "aria-label": `${t.hidden ? "Show" : "Hide"} the theme ${t.title}` }, t.hidden ? "Show" : "Hide"),
    h("button", { type: "button", class: "small", "data-do": "notes", "aria-expanded": String(open.has(t.id)),
      "aria-label": `Notes in the theme ${t.title}` }, "Notes"));
  const rename = h("form", { class: "theme-form", "data-do": "rename" },
    h("label", { class: "visually-hidden", for: `rename-${t.id}`, text: `New name for ${t.title}` }),
    h("input", { id: `rename-${t.id}`, name: "label", maxlength: "80", placeholder: "Rename…", value: t.label || "" }),
    h("button", { type: "submit", class: "small" }, "Rename"));
  const others = siblings.filter((o) => o.id !== t.id);
  const merge = others.length ? h("form", { class: "theme-form", "data-do": "merge" },
    h("label", { class: "visually-hidden", for: `merge-${t.id}`, text: `Merge ${t.title} into` }),
    h("select", { id: `merge-${t.id}`, name: "into" },
      others.map((o) => h("option", { value: o.id, text: o.title }))),
    h("button", { type: "submit", class: "small" }, "Merge into")) : null;
  li.append(tools, rename, merge || "");
  if (open.has(t.id)) li.append(h("ul", { class: "theme-notes", "data-notes": t.id }, h("li", { text: "Loading…" })));
  if (open.has(t.id)) loadNotes(t, li);
  return li;
}

async function loadNotes(t, li) {
  const r = await api("GET", `${base()}/${encodeURIComponent(t.id)}`);
  const box = li.querySelector(".theme-notes");
  if (!box) return;
  const theme = r.ok ? r.data.scopes.flatMap((s) => s.themes)[0] : null;
  if (!theme) { box.replaceChildren(h("li", { text: r.ok ? "No notes." : r.error.message })); return; }
  box.replaceChildren(...theme.members.map((n) => h("li", { dir: "auto" },
    `${n.text} — Table ${n.table_number} `,
    h("button", { type: "button", class: "small", "data-do": "out", "data-note": n.id,
      "aria-label": `Move “${n.text.slice(0, 40)}” out of this theme` }, "Move out"))));
}

function wire() {
  const panel = $("themes-panel");
  if (!panel) return;
  $("themes-show").addEventListener("click", (e) => {
    const on = e.currentTarget.getAttribute("aria-pressed") !== "true";
    act("POST", `${base()}/show`, { on }, e.currentTarget);
  });
  $("themes-refresh").addEventListener("click", (e) => act("POST", `${base()}/refresh`, { stage: data?.stage ?? null }, e.currentTarget));
  $("themes-list").addEventListener("click", (e) => {
    const btn = e.target.closest("button[data-do]");
    const li = e.target.closest("[data-theme]");
    if (!btn || !li) return;
    const id = li.dataset.theme;
    const theme = data?.scopes.flatMap((s) => s.themes).find((t) => t.id === id);
    if (btn.dataset.do === "spot") {
      const on = btn.getAttribute("aria-pressed") !== "true";
      act("POST", `${base()}/show`, on ? { on, theme: id } : { on: true }, btn);
    } else if (btn.dataset.do === "hide" && theme) {
      act("PATCH", `${base()}/${encodeURIComponent(id)}`, { hidden: !theme.hidden }, btn);
    } else if (btn.dataset.do === "notes") {
      if (open.has(id)) open.delete(id); else open.add(id);
      drawnKey = "";
      draw();
    } else if (btn.dataset.do === "out") {
      act("POST", `${base()}/${encodeURIComponent(id)}/move-out`, { note: btn.dataset.note }, btn);
    }
  });
  $("themes-list").addEventListener("submit", (e) => {
    e.preventDefault();
    const form = e.target;
    const id = form.closest("[data-theme]").dataset.theme;
    const button = form.querySelector("button");
    if (form.dataset.do === "rename") {
      const label = form.elements.label.value.trim();
      act("PATCH", `${base()}/${encodeURIComponent(id)}`, { label: label || null }, button);
    } else if (form.dataset.do === "merge") {
      act("POST", `${base()}/${encodeURIComponent(id)}/merge`, { into: form.elements.into.value }, button);
    }
  });
}

wire();
