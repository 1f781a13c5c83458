// The peer: a session validator written the way a good JavaScript developer would write
// it, for the same job as GET /v1/session. Bearer token or session cookie, a cheap
// shape check, SHA-256 through WebCrypto, one KV read of a JSON record, the deadline
// check, and the same JSON answer. Not written to lose: no extra work, no extra
// allocations beyond what the job needs.

const TOKEN = /^est_[A-Za-z0-9_-]{43}$/;
const COOKIE = "__Host-session";
const encoder = new TextEncoder();

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

const json = (status, body) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" },
  });

const iso = (secs) => new Date(secs * 1000).toISOString().replace(".000Z", "Z");

export default {
  async fetch(request, env) {
    const token = tokenOf(request);
    if (!token || !TOKEN.test(token)) return json(401, { error: token ? "invalid_token" : "missing_token" });
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(token)));
    let hex = "";
    for (const b of digest) hex += b.toString(16).padStart(2, "0");
    const record = await env.SESSIONS.get(`session:${hex}`, "json");
    if (!record) return json(401, { error: "session_not_found" });
    const now = Math.floor(Date.now() / 1000);
    if (now >= record.idle_expires_at || now >= record.absolute_expires_at)
      return json(401, { error: "session_expired" });
    return json(200, {
      account_id: record.account_id,
      session_id: record.session_id,
      created_at: iso(record.created_at),
      expires_at: iso(record.idle_expires_at),
      absolute_expires_at: iso(record.absolute_expires_at),
    });
  },
};
