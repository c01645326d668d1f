// Small helpers every page shares. User text only ever reaches the page through
// textContent (h's "text"), never as HTML.

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

/** Run fn once `ms` after the last of a series of calls. */
export function debounce(fn, ms) {
  let t = 0;
  const d = (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
  d.cancel = () => clearTimeout(t);
  return d;
}

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

/** Re-rendering replaces controls: put keyboard focus back on the same one (data-key). */
export function keepFocus(fn) {
  const key = document.activeElement?.dataset?.key;
  fn();
  if (key) document.querySelector(`[data-key="${CSS.escape(key)}"]`)?.focus();
}

/** The page's link without its fragment: a token read once never stays in the address
 *  bar, where a projector or a screenshot would show it. */
export function dropFragment() {
  if (location.hash) history.replaceState(history.state, "", location.pathname + location.search);
}

/** The capability token of a staff link (the part after #), read once and taken out of the
 *  address bar; kept for this tab only (sessionStorage), so a reload still works. */
export function linkToken(page) {
  const key = `plenary:token:${page}`;
  const fromLink = location.hash.slice(1);
  let token = fromLink;
  try {
    if (fromLink) sessionStorage.setItem(key, fromLink);
    else token = sessionStorage.getItem(key) || "";
  } catch { /* private browsing: the link itself is needed again after a reload */ }
  dropFragment();
  return token;
}

/** The page's store: one state, changed only by its reducer, drawn after each change. */
export function createStore(reduce, initial, onChange) {
  let state = initial;
  return {
    get state() { return state; },
    dispatch(action) {
      state = reduce(state, { at: Date.now(), ...action });
      onChange(state, action);
    },
  };
}
