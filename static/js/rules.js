// What a page needs to know about the event's rules to show them (the server has the last
// word on every one). Pure functions: no DOM, no socket; Node's test runner imports them.

export const plural = (n, one) => `${n} ${n === 1 ? one : one + "s"}`;

/** The step the table is on (or undefined). */
export const stepOf = (event, table) => event?.template.stages[table.stage]?.steps[table.step];

/** Whether the table's current step takes notes. */
export function postingOpen(event, table) {
  const kind = stepOf(event, table)?.kind;
  return event.status === "live" && ["write", "reveal", "discuss"].includes(kind);
}

/** Whether vote counts are kept from everyone right now (a blind vote step). */
export function countsBlind(event, table) {
  return (event.template.vote_counts || "after_vote") === "after_vote" && stepOf(event, table)?.kind === "vote";
}

/** Dots each participant has in a stage (the server's votes_left corrects it). */
export function votesFor(event, stage) {
  const s = event.template.stages[stage];
  return s?.votes ?? event.template.votes_per_participant ?? 3;
}

/** Whether the organiser has locked this table's board (all boards, or this one). */
export const locked = (event, table) => !!(event?.locked || table?.locked);

/** Remaining time of the event's stage timer in ms, or null when no timer runs. */
export function remainingMs(event, offset, now) {
  const tm = event?.timer;
  if (!tm || !tm.state || tm.state === "stopped") return null;
  if (tm.state === "paused" || tm.ends_at == null) return tm.remaining_ms ?? null;
  return tm.ends_at - (now + offset);
}

/** 754000 -> "12:34"; negative -> "0:00". Rounds up, so 0:00 means time is up. */
export function mmss(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** The stage timer in words ("12:34 left", "Time is up"), or "" when none runs (or the
 *  event is not live: a closed event's timer means nothing any more). */
export function timerWords(event, offset, now) {
  if (event?.status !== "live") return "";
  const ms = remainingMs(event, offset, now);
  if (ms == null) return "";
  if (event.timer.state === "paused") return `Timer paused: ${mmss(ms)} left`;
  return ms > 0 ? `${mmss(ms)} left` : "Time is up";
}

/** "Just now", "2 min ago", "1 h 5 min ago". */
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

/** A note's words on one line, cut to `max` characters: for buttons' accessible names. */
export function snippet(s, max = 60) {
  const t = String(s ?? "").replace(/\s+/g, " ").trim();
  const chars = [...t];
  return chars.length > max ? `${chars.slice(0, max - 3).join("")}…` : t;
}
