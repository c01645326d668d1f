// The organiser's HTTP API (docs/console-api.md): JSON over fetch, same origin, with the
// session cookie. Never throws: every answer is {ok, status, data} or {ok: false, error}.

export async function api(method, path, body, type = "application/json") {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = type;
    init.body = type === "application/json" ? JSON.stringify(body) : body;
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    return { ok: false, status: 0, error: { code: "offline", message: "Cannot reach the server. Check the connection and try again." } };
  }
  let data = null;
  if (res.status !== 204) {
    try { data = await res.json(); } catch { data = null; }
  }
  if (res.ok) return { ok: true, status: res.status, data };
  const error = data?.error || { code: `http_${res.status}`, message: `The server answered ${res.status}. Try again.` };
  return { ok: false, status: res.status, error, json: data !== null };
}

/** Where the console keeps the organiser token of each event, for its socket. */
const KEY = "plenary.console.tokens";

export const tokens = {
  get(eventId) {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "{}")[eventId] || null; } catch { return null; }
  },
  set(eventId, token) {
    try {
      const all = JSON.parse(sessionStorage.getItem(KEY) || "{}");
      all[eventId] = token;
      sessionStorage.setItem(KEY, JSON.stringify(all));
    } catch { /* private browsing: the setup's link gives it again */ }
  },
};

/** The token in a link's fragment. */
export const fragment = (url) => (url && url.includes("#") ? url.slice(url.indexOf("#") + 1) : null);
