// The gatekeeper peer: the gated forward written the way a good JavaScript developer
// would, for the bench's gated scenario. It validates like bench/peer/validator.mjs
// (bearer or cookie, SHA-256 by WebCrypto, one KV read of the JSON record, the deadline
// check), then forwards to ORIGIN_URL: the same dropped-header list and identity-header
// rule as this worker (src/core/gate.rs), the session credential stripped, the
// `X-Session-*` identity and `X-Forwarded-*` set, no cache, redirects not followed. Not
// written to lose: one pass over the headers, a Set lookup per name.

const TOKEN = /^est_[A-Za-z0-9_-]{43}$/;
const COOKIE = "__Host-session";
const encoder = new TextEncoder();
const DROPPED = new Set([
  "host",
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "upgrade",
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-port",
  "x-original-url",
  "x-rewrite-url",
  "x-original-uri",
  "x-forwarded-prefix",
  "x-forwarded-path",
  "x-forwarded-server",
  "x-forwarded-scheme",
  "x-forwarded-ssl",
  "front-end-https",
  "x-url-scheme",
  "x-http-method-override",
  "x-http-method",
  "x-method-override",
  "x-real-ip",
  "x-client-ip",
  "true-client-ip",
  "x-cluster-client-ip",
]);

function tokenOf(request) {
  const auth = request.headers.get("Authorization");
  if (auth && auth.startsWith("Bearer ")) return auth.slice(7).trim();
  const cookies = request.headers.get("Cookie");
  if (!cookies) return null;
  for (const pair of cookies.split(";")) {
    const eq = pair.indexOf("=");
    if (eq > 0 && pair.slice(0, eq).trim() === COOKIE) return pair.slice(eq + 1).trim();
  }
  return null;
}

const refuse = (error) =>
  new Response(JSON.stringify({ error }), {
    status: 401,
    headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" },
  });

const iso = (secs) => new Date(secs * 1000).toISOString().replace(".000Z", "Z");

export default {
  async fetch(request, env) {
    const token = tokenOf(request);
    if (!token || !TOKEN.test(token)) return refuse(token ? "invalid_token" : "missing_token");
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(token)));
    let hex = "";
    for (const b of digest) hex += b.toString(16).padStart(2, "0");
    const record = await env.SESSIONS.get(`session:${hex}`, "json");
    if (!record) return refuse("session_not_found");
    const now = Math.floor(Date.now() / 1000);
    if (now >= record.idle_expires_at || now >= record.absolute_expires_at) return refuse("session_expired");

    const headers = new Headers();
    for (const [name, value] of request.headers) {
      const normal = name.replaceAll("_", "-");
      if (normal.startsWith("x-session-") || DROPPED.has(normal)) continue;
      if (name === "cookie") {
        const rest = value
          .split(";")
          .filter((pair) => pair.trim().split("=", 1)[0] !== COOKIE)
          .join(";");
        if (rest.trim()) headers.append("Cookie", rest.trim());
        continue;
      }
      if (name === "authorization" && value.startsWith("Bearer est_")) continue;
      headers.append(name, value);
    }
    const url = new URL(request.url);
    headers.set("X-Session-Account", record.account_id);
    headers.set("X-Session-Id", record.session_id);
    headers.set("X-Session-Expires", iso(record.idle_expires_at));
    headers.set("X-Forwarded-Host", url.host);
    headers.set("X-Forwarded-Proto", url.protocol.slice(0, -1));
    const client = request.headers.get("CF-Connecting-IP");
    if (client) headers.set("X-Forwarded-For", client);
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : request.body;
    return fetch(env.ORIGIN_URL.replace(/\/$/, "") + url.pathname + url.search, {
      method: request.method,
      headers,
      body,
      redirect: "manual",
      cache: "no-store",
    });
  },
};
