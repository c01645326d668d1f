// The console's set-up view for one event: details, topics (with CSV import), tables
// (topic, facilitator, new codes and links), the links to print and share, and Start.
// Everything goes through the JSON API (console-api.js); each answer is the whole set-up.
import { $, h, say } from "./dom.js";
import { plural } from "./rules.js";
import { api } from "./console-api.js";

let setup = null;
let ctx = null;
let wired = false;

const draft = () => setup.event.status === "draft";
const base = () => `/api/events/${encodeURIComponent(setup.event.id)}`;

/** Show the set-up of an event. ctx: {live, onChanged(setup), onStarted()}. */
export function showSetup(s, c) {
  setup = s;
  ctx = c;
  if (!wired) wire();
  render();
  // The set-up may have changed in another console since: fetch it again quietly.
  api("GET", base()).then((r) => { if (r.ok) take(r.data); });
}

function take(s) {
  setup = s;
  ctx.onChanged?.(s);
  render();
}

/** Send one set-up change; show what the server says. */
async function send(method, path, body, statusEl, done, type) {
  say($("s-error"), "");
  const r = await api(method, base() + path, body, type);
  if (!r.ok) {
    say($("s-error"), r.error.message);
    $("s-error").scrollIntoView({ block: "nearest" });
    return null;
  }
  take(r.data);
  if (statusEl && done) say(statusEl, done);
  return r.data;
}

function render() {
  const { event, links } = setup;
  $("s-heading").textContent = event.title;
  say($("s-meta"), [event.venue, event.date, `${plural(setup.tables.length, "table")}`, `${plural(setup.topics.length, "topic")}`].filter(Boolean).join(" · "));
  const badge = $("s-status");
  badge.textContent = { draft: "Draft: not started", live: "Live", closed: "Closed" }[event.status] || event.status;
  badge.dataset.status = event.status;
  $("s-live-note").hidden = draft();

  // Details: only while a draft.
  const form = $("s-details");
  if (document.activeElement?.form !== form) {
    $("s-title").value = event.title;
    $("s-date").value = event.date || "";
    $("s-venue").value = event.venue || "";
  }
  for (const el of form.elements) el.disabled = !draft();

  // Links and printing.
  const cards = links.cards_url;
  $("l-cards-a5").href = `${cards}?layout=a5`;
  $("l-cards-a4").href = `${cards}?layout=a4`;
  $("l-facilitators").href = links.facilitators_url;
  $("l-dashboard").href = links.dashboard_url;
  $("l-organiser").value = links.organiser_url;
  $("l-join").value = links.join_url;
  $("s-start").hidden = !draft() || !ctx.live;
  say($("s-start-hint"), draft()
    ? (setup.tables.length ? "Participants can open their tables before the start; they can post once it has started." : "Add at least one table before you start.")
    : "The event has started: run it from “Run the event”.");
  $("s-start").disabled = !setup.tables.length;

  renderTopics();
  renderTables();
  for (const id of ["topic-add", "topic-import", "tables-add"]) {
    for (const el of $(id).elements) el.disabled = !draft();
  }
}

// --- topics ---------------------------------------------------------------------------------

function renderTopics() {
  const used = new Map();
  for (const t of setup.tables) used.set(t.topic_id, (used.get(t.topic_id) || 0) + 1);
  const editing = document.activeElement?.closest?.("#topic-rows tr")?.dataset.topic;
  const old = new Map([...$("topic-rows").children].map((tr) => [tr.dataset.topic, tr]));
  $("topic-rows").replaceChildren(...setup.topics.map((t, i) => {
    const keep = old.get(String(t.id));
    if (keep && String(t.id) === editing) return keep; // never yank a field from under the cursor
    const n = i + 1;
    const tables = used.get(t.id) || 0;
    return h("tr", { "data-topic": String(t.id) },
      h("td", { class: "num", text: String(n) }),
      h("td", {},
        h("input", { type: "text", class: "t-title", value: t.title, maxlength: "120", "aria-label": `Title of topic ${n}`, disabled: !draft() }),
        h("p", { class: "hint", text: tables ? `${plural(tables, "table")}` : "No table yet" })),
      h("td", {}, h("textarea", { class: "t-brief", rows: "2", maxlength: "2000", "aria-label": `Background brief of topic ${n}`, disabled: !draft() }, t.brief || "")),
      h("td", { class: "row-actions" },
        h("button", { type: "button", class: "small", "data-action": "save-topic", "aria-label": `Save topic ${n}`, disabled: !draft() }, "Save"),
        h("button", { type: "button", class: "small danger", "data-action": "delete-topic", "aria-label": `Delete topic ${n}`, disabled: !draft() || tables > 0,
          title: tables ? "Move its tables to another topic first" : null }, "Delete")));
  }));
  $("topics-caption").textContent = `Topics (${setup.topics.length})`;
}

// --- tables -----------------------------------------------------------------------------------

function topicOptions(selected) {
  return setup.topics.map((t) => h("option", { value: String(t.id), selected: t.id === selected ? "selected" : null, text: t.title }));
}

function renderTables() {
  const editing = document.activeElement?.closest?.("#table-rows tr")?.dataset.table;
  const old = new Map([...$("table-rows").children].map((tr) => [tr.dataset.table, tr]));
  $("table-rows").replaceChildren(...setup.tables.map((t) => {
    const keep = old.get(t.id);
    if (keep && t.id === editing) {
      keep.querySelector(".code").textContent = t.join_code;
      return keep;
    }
    return h("tr", { "data-table": t.id },
      h("th", { scope: "row", class: "num", text: String(t.number) }),
      h("td", {}, h("select", { class: "tb-topic", "aria-label": `Topic of table ${t.number}`, disabled: !draft() }, topicOptions(t.topic_id))),
      h("td", {}, h("input", { type: "text", class: "tb-fac", value: t.facilitator_name || "", maxlength: "80", placeholder: "Name",
        "aria-label": `Facilitator of table ${t.number}`, autocomplete: "off" })),
      h("td", {},
        h("span", { class: "code", text: t.join_code }),
        h("a", { class: "small-link", href: t.participant_url, target: "_blank", rel: "noopener", "aria-label": `Open table ${t.number} as a participant`, text: "Open" })),
      h("td", { class: "row-actions" },
        h("button", { type: "button", class: "small", "data-action": "regen-code", "aria-label": `Regenerate join code for table ${t.number}` }, "Regenerate join code"),
        h("button", { type: "button", class: "small", "data-action": "regen-link", "aria-label": `Regenerate facilitator link for table ${t.number}` }, "Regenerate facilitator link"),
        h("button", { type: "button", class: "small danger", "data-action": "delete-table", "aria-label": `Delete table ${t.number}`, disabled: !draft() }, "Delete")));
  }));
  $("tables-setup-caption").textContent = `Tables (${setup.tables.length})`;
}

// --- events ------------------------------------------------------------------------------------

function wire() {
  wired = true;
  $("s-details").addEventListener("submit", async (e) => {
    e.preventDefault();
    const title = $("s-title").value.trim();
    if (!title) { say($("s-error"), "The event needs a title."); $("s-title").focus(); return; }
    await send("PATCH", "", { title, date: $("s-date").value || null, venue: $("s-venue").value.trim() }, $("s-saved"), "Saved.");
  });

  $("topic-rows").addEventListener("click", async (e) => {
    const btn = e.target.closest("button[data-action]");
    if (!btn) return;
    const tr = btn.closest("tr");
    const id = tr.dataset.topic;
    if (btn.dataset.action === "save-topic") {
      const title = tr.querySelector(".t-title").value.trim();
      if (!title) { say($("s-error"), "A topic needs a title."); return; }
      btn.blur();
      await send("PATCH", `/topics/${id}`, { title, brief: tr.querySelector(".t-brief").value.trim() }, $("topics-status"), "Topic saved.");
    } else if (btn.dataset.action === "delete-topic") {
      const title = tr.querySelector(".t-title").value;
      if (confirm(`Delete the topic “${title}”?`)) await send("DELETE", `/topics/${id}`, undefined, $("topics-status"), "Topic deleted.");
    }
  });

  $("topic-add").addEventListener("submit", async (e) => {
    e.preventDefault();
    const title = $("t-title").value.trim();
    if (!title) { say($("s-error"), "A topic needs a title."); $("t-title").focus(); return; }
    const ok = await send("POST", "/topics", { title, brief: $("t-brief").value.trim() }, $("topics-status"), `Added “${title}”.`);
    if (ok) { $("t-title").value = ""; $("t-brief").value = ""; $("t-title").focus(); }
  });

  $("topic-import").addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = $("t-csv").files?.[0];
    if (!file) { say($("s-error"), "Choose a CSV file first."); $("t-csv").focus(); return; }
    if (file.size > 500 * 1024) { say($("s-error"), "That file is too large for a list of topics (over 500 kB)."); return; }
    const before = setup.topics.length;
    const text = await file.text();
    const ok = await send("POST", "/topics/import", text, null, null, "text/csv");
    if (ok) {
      say($("topics-status"), `Imported ${plural(ok.topics.length - before, "topic")} from ${file.name}.`);
      $("t-csv").value = "";
    }
  });

  $("table-rows").addEventListener("change", async (e) => {
    const tr = e.target.closest("tr");
    if (!tr) return;
    const id = tr.dataset.table;
    const number = tr.querySelector("th").textContent;
    if (e.target.classList.contains("tb-topic")) {
      await send("PATCH", `/tables/${id}`, { topic_id: Number(e.target.value) }, $("tables-status"), `Table ${number}: topic changed.`);
    } else if (e.target.classList.contains("tb-fac")) {
      const name = e.target.value.trim();
      await send("PATCH", `/tables/${id}`, { facilitator_name: name }, $("tables-status"),
        name ? `Table ${number}: facilitator ${name}.` : `Table ${number}: facilitator's name cleared.`);
    }
  });
  $("table-rows").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.target.classList.contains("tb-fac")) e.target.blur(); // saves via change
  });

  $("table-rows").addEventListener("click", async (e) => {
    const btn = e.target.closest("button[data-action]");
    if (!btn) return;
    const tr = btn.closest("tr");
    const id = tr.dataset.table;
    const number = tr.querySelector("th").textContent;
    const a = btn.dataset.action;
    if (a === "regen-code") {
      if (!confirm(`Give table ${number} a new join code? The old code and its QR code stop working at once, and phones that joined with it are disconnected: print the table's card again.`)) return;
      await send("POST", `/tables/${id}/regenerate`, { what: "join_code" }, $("tables-status"), `Table ${number} has a new join code.`);
    } else if (a === "regen-link") {
      if (!confirm(`Give table ${number} a new facilitator link? The old link stops working at once and its tablet is disconnected.`)) return;
      await send("POST", `/tables/${id}/regenerate`, { what: "facilitator_link" }, $("tables-status"), `Table ${number} has a new facilitator link: print the facilitators' sheet again.`);
    } else if (a === "delete-table") {
      if (!confirm(`Delete table ${number}?`)) return;
      await send("DELETE", `/tables/${id}`, undefined, $("tables-status"), `Table ${number} deleted.`);
    }
  });

  $("tables-add").addEventListener("submit", async (e) => {
    e.preventDefault();
    const count = Number($("n-tables").value);
    if (!Number.isInteger(count) || count < 1 || count > 500) { say($("s-error"), "Add 1 to 500 tables at a time."); return; }
    await send("POST", "/tables", { count }, $("tables-status"), `Added ${plural(count, "table")}.`);
  });

  for (const [btn, input] of [["l-organiser-copy", "l-organiser"], ["l-join-copy", "l-join"]]) {
    $(btn).addEventListener("click", async () => {
      const el = $(input);
      el.select();
      try { await navigator.clipboard.writeText(el.value); $(btn).textContent = "Copied"; } catch { $(btn).textContent = "Press Ctrl+C"; }
      setTimeout(() => { $(btn).textContent = "Copy"; }, 2000);
    });
  }

  // A leaked link is revoked by replacing it: every screen and console using the
  // old one is cut off at once (this console stays signed in).
  for (const [btn, what, who] of [["l-organiser-replace", "organiser_link", "organiser"],
                                  ["l-dashboard-replace", "dashboard_link", "dashboard"]]) {
    $(btn).addEventListener("click", async () => {
      if (!confirm(`Replace the ${who} link? The old one stops working at once and every screen that opened it is disconnected.`)) return;
      const data = await send("POST", "/regenerate", { what }, $("links-status"), `The ${who} link was replaced: share the new one.`);
      if (data && what === "organiser_link") {
        // This console's own socket used the old link: open the new one (same session).
        const next = new URL(data.links.organiser_url);
        if (next.pathname === location.pathname) { location.hash = next.hash; location.reload(); } else location.assign(next);
      }
    });
  }

  $("s-start").addEventListener("click", async () => {
    if (!ctx.live) return;
    const btn = $("s-start");
    btn.disabled = true;
    say($("s-error"), "");
    const ack = await ctx.live.request("event.status", { action: "start" });
    btn.disabled = false;
    if (!ack.ok) { say($("s-error"), ack.error.message); return; }
    setup.event.status = "live";
    ctx.onStarted?.();
  });
}
