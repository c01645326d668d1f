// The participant page's service worker: a phone that reloads with no network gets the page
// back from its cache, and the page draws the last known board it kept (participant.js).
// Served from the root (/sw.js) so that it may look after /j/<code>; browsers run one only
// in a secure context (https, or localhost), so on a plain-http venue network it never runs.
// Network first: online, every request goes to the server as if there were no worker.

const CACHE = "plenary-participant-v1";
// Every /j/<code> is the same page: one copy serves them all.
const SHELL = "/j/offline";
const FILES = [
  SHELL,
  "/static/css/base.css",
  "/static/vendor/socket.io-4.8.4.msgpack.min.js",
  "/static/js/participant.js",
  "/static/js/connection.js",
  "/static/js/board-state.js",
  "/static/js/dom.js",
  "/static/js/rules.js",
];

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== location.origin) return;
  const page = e.request.mode === "navigate" && url.pathname.startsWith("/j/");
  if (!page && !FILES.includes(url.pathname)) return; // the socket, the API, other pages: untouched
  e.respondWith(fetch(e.request).then((res) => {
    if (res.ok) {
      const copy = res.clone();
      caches.open(CACHE).then((c) => c.put(page ? SHELL : e.request, copy));
    }
    return res;
  }).catch(async () => (await caches.match(page ? SHELL : e.request)) || Response.error()));
});
