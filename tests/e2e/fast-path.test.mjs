// The hot path's synchronous entry (src/edge/fast_path.rs, scripts/shim/worker-shim.js)
// against the full path, in workerd. `GET /v1/session` takes the fast path; the same
// request with `?consistency=eventual` (or a bare `?`) means the same thing and takes
// the full path. For a corpus of credentials, origins and stored records, both must
// answer byte for byte alike: status, every header, body.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startWorker, kvKeyOf, sleep } from "./harness.mjs";
import { admin } from "./support/requests.mjs";
import { deviceKey, parseRegistration, proof } from "./support/dbsc-client.mjs";

const ALLOWED = "https://app.example";

/** Status, headers (all but Date) and body, as a comparable value. */
async function answerOf(res) {
  const headers = [...res.headers].filter(([name]) => name !== "date");
  return { status: res.status, headers, body: await res.text() };
}

describe("the fast path answers exactly as the full path", () => {
  let worker;
  const corpus = [];
  before(async () => {
    worker = await startWorker({ vars: { ALLOWED_ORIGINS: ALLOWED, DRIFT_POLICY: "country=step_up" } });
    const live = await worker.createSession("fast", { claims: { role: "editor" }, aal: 2, amr: ["pwd", "otp"] });
    const short = await worker.createSession("fast", { idle_ttl_secs: 1 });
    const revoked = await worker.createSession("fast");
    await worker.fetch(`/v1/admin/accounts/fast/sessions/${revoked.session_id}`, { method: "DELETE", headers: admin });
    const unreadable = await worker.createSession("fast");
    await worker.kv.put(await kvKeyOf(unreadable.token), '{"v":99,"junk":true}');
    const impersonation = await (
      await worker.fetch("/v1/admin/accounts/fast/impersonations", {
        method: "POST",
        headers: { ...admin, "Content-Type": "application/json" },
        body: JSON.stringify({ actor: "support@example.com", reason: "ticket 7", ttl_secs: 600 }),
      })
    ).json();
    // Theft signals (docs/theft-signals.md): two sessions first used from one place;
    // the corpus uses one from there and the other from a new country (step_up).
    const home = { country: "DE", asn: 3320, tlsClientCiphersSha1: "c1", tlsClientExtensionsSha1: "e1" };
    const abroad = { ...home, country: "US", asn: 7922 };
    const undrifted = await worker.createSession("fast");
    const drifted = await worker.createSession("fast");
    for (const s of [undrifted, drifted]) {
      const first = await worker.fetch("/v1/session", { cf: home, headers: { Authorization: `Bearer ${s.token}` } });
      assert.equal(first.status, 200);
    }
    await sleep(1100); // `short` is now idle-expired
    const cookie = (token) => `__Host-session=${token}`;
    const credentials = {
      "a live bearer token": { Authorization: `Bearer ${live.token}` },
      "a live cookie": { Cookie: cookie(live.token) },
      "a live cookie among others": { Cookie: `theme=dark; ${cookie(live.token)}; lang=en` },
      "an impersonation session (act)": { Authorization: `Bearer ${impersonation.token}` },
      "an idle-expired session": { Authorization: `Bearer ${short.token}` },
      "a revoked session": { Cookie: cookie(revoked.token) },
      "an unreadable record": { Authorization: `Bearer ${unreadable.token}` },
      "no credential": {},
      "an unknown token": { Authorization: `Bearer est_${"A".repeat(43)}` },
      "a garbage token": { Authorization: "Bearer not-a-token" },
      "a basic scheme": { Authorization: "Basic dXNlcjpwYXNz" },
      "two session cookies": { Cookie: `${cookie(live.token)}; ${cookie(short.token)}` },
      "a cookie and another bearer": { Cookie: cookie(live.token), Authorization: `Bearer ${short.token}` },
      "an oversized cookie header": { Cookie: `${cookie(live.token)}; pad=${"x".repeat(9000)}` },
    };
    const clients = {
      "a session used where it began": { cf: home, headers: { Authorization: `Bearer ${undrifted.token}` } },
      "a session used from a new country": {
        cf: abroad,
        headers: { Authorization: `Bearer ${drifted.token}`, "CF-Connecting-IP": "198.51.100.1" },
      },
    };
    const origins = {
      "no Origin": {},
      "an allowed Origin": { Origin: ALLOWED },
      "a foreign Origin": { Origin: "https://evil.example" },
    };
    for (const [what, headers] of Object.entries(credentials))
      for (const [where, origin] of Object.entries(origins))
        corpus.push({ name: `${what}, ${where}`, headers: { ...headers, ...origin } });
    for (const [what, { cf, headers }] of Object.entries(clients))
      for (const [where, origin] of Object.entries(origins))
        corpus.push({ name: `${what}, ${where}`, cf, headers: { ...headers, ...origin } });
  });
  after(async () => {
    await worker?.dispose();
  });

  test("every request of the corpus gets the same answer on both paths", async () => {
    assert.equal(corpus.length, 48);
    const statuses = new Set();
    for (const { name, headers, cf } of corpus) {
      const fast = await answerOf(await worker.fetch("/v1/session", { headers, cf }));
      for (const full of ["/v1/session?consistency=eventual", "/v1/session?"]) {
        assert.deepEqual(await answerOf(await worker.fetch(full, { headers, cf })), fast, `${name}: ${full}`);
      }
      statuses.add(fast.status);
    }
    for (const status of [200, 400, 401, 403]) assert.ok(statuses.has(status), `the corpus reaches a ${status}`);
    const acting = corpus.find((c) => c.name === "an impersonation session (act), no Origin");
    const answered = await (await worker.fetch("/v1/session", { headers: acting.headers })).json();
    assert.deepEqual(answered.act, { sub: "support@example.com" }, "the fast path carries act");
    // 3 origins, each asked on 3 paths: the fail-closed read logs on every one.
    assert.equal(worker.logs.filter((l) => l.includes("undecodable session record")).length, 9);
  });

  test("a valid session's answer: the view, no-store, and CORS for the allowed origin", async () => {
    const { headers } = corpus.find((c) => c.name === "a live cookie, an allowed Origin");
    const res = await worker.fetch("/v1/session", { headers });
    const body = await res.json();
    assert.equal(res.status, 200);
    assert.deepEqual(
      [body.account_id, body.aal, body.amr, body.claims],
      ["fast", 2, ["pwd", "otp"], { role: "editor" }],
    );
    assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.equal(res.headers.get("access-control-allow-origin"), ALLOWED);
    assert.equal(res.headers.get("access-control-allow-credentials"), "true");
    assert.equal(res.headers.get("vary"), "Origin");
  });
});

/** The cookie with one character inside its MAC changed: always another value (replacing
 * the last two characters with "AA" was, one run in a few hundred, the same cookie). */
const forged = (cookie) => `${cookie.slice(0, -8)}${cookie.at(-8) === "A" ? "B" : "A"}${cookie.slice(-7)}`;

describe("with device-bound sessions on, the fast path still answers as the full path", () => {
  let worker;
  const corpus = [];
  before(async () => {
    const secret = Buffer.alloc(32, 3).toString("base64");
    worker = await startWorker({
      vars: { ALLOWED_ORIGINS: ALLOWED, DEVICE_BOUND_SESSIONS: "offer", DEVICE_BINDING_SECRET: secret },
    });
    const unbound = await worker.createSession("fast-dbsc");
    const toBind = await worker.createSession("fast-dbsc");
    const offered = await worker.fetch("/v1/session", { headers: { Cookie: `__Host-session=${toBind.token}` } });
    const offer = parseRegistration(offered.headers.get("Secure-Session-Registration"));
    const key = await deviceKey();
    const signed = await proof(key, { jti: offer.challenge, authorization: offer.authorization }, { withKey: true });
    const bound = await worker.fetch(offer.path, {
      method: "POST",
      headers: { Cookie: `__Host-session=${toBind.token}`, "Secure-Session-Response": signed },
    });
    assert.equal(bound.status, 200, await bound.clone().text());
    const cookies = Object.fromEntries(bound.headers.getSetCookie().map((c) => c.split(";")[0].split("=")));
    const boundCookie = cookies["__Host-session"];
    const longLived = cookies["__Secure-session-dbsc"];
    const credentials = {
      "an unbound cookie holder (offered registration)": { Cookie: `__Host-session=${unbound.token}` },
      "an unbound bearer holder": { Authorization: `Bearer ${unbound.token}` },
      "a bound cookie": { Cookie: `__Host-session=${boundCookie}` },
      "a forged bound cookie": { Cookie: `__Host-session=${forged(boundCookie)}` },
      "a bound session's long-lived token as a cookie": { Cookie: `__Host-session=${longLived}` },
      "a bound session's long-lived token as a bearer": { Authorization: `Bearer ${longLived}` },
      "a bound cookie as a bearer": { Authorization: `Bearer ${boundCookie}` },
    };
    for (const [what, headers] of Object.entries(credentials))
      for (const [where, origin] of Object.entries({ "no Origin": {}, "an allowed Origin": { Origin: ALLOWED } }))
        corpus.push({ name: `${what}, ${where}`, headers: { ...headers, ...origin } });
  });
  after(async () => {
    await worker?.dispose();
  });

  test("every request gets the same answer on both paths (the offer's time-bound values aside)", async () => {
    // A registration offer's challenge and authorization carry their issue time in ms.
    const masked = async (res) => {
      const answer = await answerOf(res);
      answer.headers = answer.headers.map(([name, value]) =>
        name === "secure-session-registration" ? [name, value.replace(/="[A-Za-z0-9_-]{32}"/g, '="…"')] : [name, value],
      );
      return answer;
    };
    const seen = new Map();
    for (const { name, headers } of corpus) {
      const fast = await masked(await worker.fetch("/v1/session", { headers }));
      assert.deepEqual(await masked(await worker.fetch("/v1/session?consistency=eventual", { headers })), fast, name);
      seen.set(name, [
        fast.status,
        JSON.parse(fast.body).error ?? null,
        fast.headers.some(([n]) => n === "secure-session-registration"),
      ]);
    }
    assert.deepEqual(seen.get("an unbound cookie holder (offered registration), no Origin"), [200, null, true]);
    assert.deepEqual(seen.get("an unbound bearer holder, no Origin"), [200, null, false]);
    assert.deepEqual(seen.get("a bound cookie, no Origin"), [200, null, false]);
    assert.deepEqual(seen.get("a forged bound cookie, no Origin"), [401, "invalid_token", false]);
    assert.deepEqual(seen.get("a bound session's long-lived token as a cookie, no Origin"), [
      401,
      "bound_cookie_required",
      false,
    ]);
    assert.deepEqual(seen.get("a bound session's long-lived token as a bearer, no Origin"), [
      401,
      "bound_cookie_required",
      false,
    ]);
    assert.deepEqual(seen.get("a bound cookie as a bearer, no Origin"), [401, "invalid_token", false]);
  });
});

describe("GET /v1/health on the fast path", () => {
  test("answers as the full path does, with any query, and reads nothing", async () => {
    // both-paths-entry.mjs: X-Test-Path: full sends a request to the full-path twin.
    const scriptPath = fileURLToPath(new URL("./both-paths-entry.mjs", import.meta.url));
    const worker = await startWorker({ scriptPath });
    try {
      for (const path of ["/v1/health", "/v1/health?probe=1"]) {
        const fast = await answerOf(await worker.fetch(path));
        const full = await answerOf(await worker.fetch(path, { headers: { "X-Test-Path": "full" } }));
        assert.deepEqual(fast, full, path);
        assert.equal(fast.status, 200);
        assert.equal(JSON.parse(fast.body).status, "ok");
      }
      // Another method is the full path's to refuse, as before.
      const post = await worker.fetch("/v1/health", { method: "POST" });
      assert.deepEqual([post.status, post.headers.get("allow")], [405, "GET"]);
      assert.deepEqual(await (await worker.fetch("/__test/callers")).json(), []);
    } finally {
      await worker.dispose();
    }
  });
});

describe("which path a request takes", () => {
  test("GET /v1/session reads KV from the shim; a query, another route or a method takes wasm's full path", async () => {
    const scriptPath = fileURLToPath(new URL("./kv-caller-entry.mjs", import.meta.url));
    const worker = await startWorker({ scriptPath });
    try {
      const s = await worker.createSession("paths");
      const readers = async () => (await worker.fetch("/__test/kv-readers")).json();
      const auth = { Authorization: `Bearer ${s.token}` };
      // The first use by a client takes the baseline, through the full path (it asks the
      // account's Durable Object); every later use of an undrifted session is the shim's.
      assert.equal((await worker.fetch("/v1/session", { headers: auth })).status, 200);
      assert.deepEqual(await readers(), ["shim", "wasm"]);
      assert.equal((await worker.fetch("/v1/session", { headers: auth })).status, 200);
      assert.deepEqual(await readers(), ["shim"]);
      assert.equal((await worker.fetch("/v1/session?consistency=eventual", { headers: auth })).status, 200);
      assert.equal((await worker.fetch("/v1/session/refresh", { method: "POST", headers: auth })).status, 200);
      assert.deepEqual(await readers(), ["wasm", "wasm"]);
      // A credential that cannot be read is answered by the plan itself: no KV read.
      const junk = await worker.fetch("/v1/session", { headers: { Authorization: "Bearer junk" } });
      assert.deepEqual([junk.status, (await junk.json()).error], [401, "invalid_token"]);
      assert.deepEqual(await readers(), []);
    } finally {
      await worker.dispose();
    }
  });

  test("request.cf is read once per client: a client that matched a moment ago is compared without it", async () => {
    const scriptPath = fileURLToPath(new URL("./cf-reader-entry.mjs", import.meta.url));
    const worker = await startWorker({ scriptPath });
    try {
      const s = await worker.createSession("cf-reads");
      const reads = async () => (await worker.fetch("/__test/cf-reads")).json();
      const from = (address) => ({ headers: { Authorization: `Bearer ${s.token}`, "CF-Connecting-IP": address } });
      assert.equal((await worker.fetch("/v1/session", from("203.0.113.5"))).status, 200);
      assert.ok((await reads()) >= 1, "the first use takes the baseline from request.cf");
      for (let i = 0; i < 5; i++) assert.equal((await worker.fetch("/v1/session", from("203.0.113.5"))).status, 200);
      assert.equal(await reads(), 0, "the same client again: not one read");
      assert.equal((await worker.fetch("/v1/session", from("198.51.100.5"))).status, 200);
      assert.equal(await reads(), 1, "another address is another client: read once, by the shim");
      const otherAgent = { headers: { ...from("203.0.113.5").headers, "User-Agent": "curl/8.5.0" } };
      for (let i = 0; i < 2; i++) assert.equal((await worker.fetch("/v1/session", otherAgent)).status, 200);
      assert.equal(await reads(), 1, "another user agent at the same address: read once");
    } finally {
      await worker.dispose();
    }
  });

  test("a due touch on the fast path still extends the session, after the response", async () => {
    const worker = await startWorker({ vars: { TOUCH_INTERVAL_SECS: "1" } });
    try {
      const s = await worker.createSession("fast-touch");
      const key = await kvKeyOf(s.token);
      const before = JSON.parse(await worker.kv.get(key));
      await sleep(1100);
      assert.equal((await worker.validate(s.token)).status, 200);
      let after = before;
      for (let i = 0; i < 50 && after.idle_expires_at === before.idle_expires_at; i++) {
        await sleep(50);
        after = JSON.parse(await worker.kv.get(key));
      }
      assert.ok(after.idle_expires_at > before.idle_expires_at, "the touch moved the idle deadline");
      assert.ok(after.last_seen_at > before.last_seen_at);
    } finally {
      await worker.dispose();
    }
  });
});
