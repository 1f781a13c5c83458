// The JavaScript client (client/index.js) against the worker running in workerd. Real
// HTTP requests; the only helper is a cookie jar, standing in for the browser's.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair } from "jose";
import { createSessionClient, SessionApiError } from "../../client/index.js";
import { createAssertionVerifier } from "../../origin/index.js";
import { startWorker } from "./harness.mjs";

const ISSUER = "https://sessions.example";
const API_AUDIENCE = "https://api.example.com";

/** A fetch that keeps cookies like a browser does for credentials: "include". */
function cookieJarFetch(initialSetCookie) {
  const jar = new Map();
  const store = (setCookie) => {
    if (!setCookie) return;
    const [pair, ...attributes] = setCookie.split(";");
    const [name, value] = [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)];
    if (attributes.some((a) => a.trim().toLowerCase() === "max-age=0")) jar.delete(name);
    else jar.set(name, value);
  };
  store(initialSetCookie);
  const fetchWithJar = async (url, init = {}) => {
    fetchWithJar.sentCredentials.push(init.credentials);
    const headers = { ...init.headers };
    if (jar.size && init.credentials === "include") headers.Cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const response = await fetch(url, { ...init, headers });
    for (const c of response.headers.getSetCookie()) store(c);
    return response;
  };
  fetchWithJar.jar = jar;
  fetchWithJar.sentCredentials = [];
  return fetchWithJar;
}

describe("the JavaScript client", () => {
  let worker;
  before(async () => {
    const { privateKey } = await generateKeyPair("EdDSA", { extractable: true, crv: "Ed25519" });
    worker = await startWorker({
      vars: { ISSUER, SIGNING_KEY: JSON.stringify(await exportJWK(privateKey)), ASSERTION_AUDIENCES: API_AUDIENCE },
    });
  });
  after(async () => {
    await worker?.dispose();
  });

  const clientFor = (created) => {
    const fetchImpl = cookieJarFetch(created.setCookie);
    return { client: createSessionClient({ baseUrl: worker.url.origin, fetch: fetchImpl }), jar: fetchImpl.jar };
  };

  test("validate and refresh return the session", async () => {
    const created = await worker.createSession("client-a");
    const { client } = clientFor(created);
    const session = await client.validate();
    assert.deepEqual(session, {
      account_id: "client-a",
      session_id: created.session_id,
      created_at: created.created_at,
      expires_at: created.expires_at,
      absolute_expires_at: created.absolute_expires_at,
      authenticated_at: created.created_at,
      aal: 1,
      amr: [],
      claims: {},
      device_bound: false,
    });
    assert.equal((await client.validate({ strong: true })).session_id, created.session_id);
    const refreshed = await client.refresh();
    assert.equal(refreshed.session_id, created.session_id);
  });

  test("validate({ maxAge, minAal }) rejects a stale or weak login with reauthentication_required; rotate moves the token", async () => {
    const created = await worker.createSession("client-fresh", {
      authenticated_at: Math.floor(Date.now() / 1000) - 120,
      aal: 1,
    });
    const { client } = clientFor(created);
    assert.equal((await client.validate({ maxAge: 600 })).aal, 1);
    await assert.rejects(client.validate({ maxAge: 60 }), {
      name: "SessionApiError",
      status: 403,
      code: "reauthentication_required",
    });
    await assert.rejects(client.validate({ minAal: 2, strong: true }), {
      status: 403,
      code: "reauthentication_required",
    });
    const rotated = await client.rotate();
    assert.equal(rotated.session_id, created.session_id);
    assert.equal(rotated.token, undefined, "a cookie holder gets the new token only as a cookie");
    assert.equal(
      (await client.validate({ strong: true })).session_id,
      created.session_id,
      "the jar holds the new cookie",
    );
    assert.equal((await worker.validate(created.token, { query: "?consistency=strong" })).status, 401);
  });

  test("a step-up refusal carries failed, authenticated_at and aal from the body", async () => {
    const authenticatedAt = Math.floor(Date.now() / 1000) - 600;
    const created = await worker.createSession("client-step-up", { authenticated_at: authenticatedAt, aal: 1 });
    const { client } = clientFor(created);
    const refusal = await client.validate({ maxAge: 60, minAal: 2 }).catch((e) => e);
    assert.ok(refusal instanceof SessionApiError);
    assert.deepEqual(
      [refusal.status, refusal.code, refusal.failed, refusal.authenticated_at, refusal.aal],
      [403, "reauthentication_required", ["max_age", "min_aal"], created.authenticated_at, 1],
    );
    assert.equal(refusal.body.error, "reauthentication_required");
    assert.equal(refusal.retryAfter, undefined, "no Retry-After on a 403");
    const tooWeak = await client.validate({ minAal: 2 }).catch((e) => e);
    assert.deepEqual(tooWeak.failed, ["min_aal"]);
  });

  test("a rate-limited call rejects with status 429 and retryAfter in seconds", async (t) => {
    // Two costly calls a minute per session, so the limit is reached at once.
    const limited = await startWorker({ ratelimits: { SESSION_LIMITER: { simple: { limit: 2, period: 60 } } } });
    t.after(() => limited.dispose());
    const created = await limited.createSession("client-limited");
    const fetchImpl = cookieJarFetch(created.setCookie);
    const client = createSessionClient({ baseUrl: limited.url.origin, fetch: fetchImpl });
    // refresh and strong validation share the session's limit.
    await client.refresh();
    await client.validate({ strong: true });
    const refusal = await client.validate({ strong: true }).catch((e) => e);
    assert.ok(refusal instanceof SessionApiError, String(refusal));
    assert.deepEqual([refusal.status, refusal.code], [429, "rate_limited"]);
    assert.ok(Number.isInteger(refusal.retryAfter) && refusal.retryAfter > 0, `retryAfter ${refusal.retryAfter}`);
    assert.equal(refusal.failed, undefined);
    assert.equal((await client.validate()).session_id, created.session_id, "an eventual validation is not limited");
  });

  test("token({ audience }) returns an access token the origin SDK verifies, and refuses other audiences", async () => {
    const created = await worker.createSession("client-token", { claims: { plan: "pro" } });
    const { client } = clientFor(created);
    const issued = await client.token({ audience: API_AUDIENCE });
    assert.deepEqual(Object.keys(issued).sort(), ["expires_at", "token"]);
    const verified = await createAssertionVerifier({
      jwksUrl: new URL("/v1/jwks.json", worker.url),
      issuer: ISSUER,
      audience: API_AUDIENCE,
      kind: "access_token",
    }).verify(issued.token);
    assert.deepEqual([verified.accountId, verified.sessionId], ["client-token", created.session_id]);
    assert.deepEqual(verified.claims, { plan: "pro" });
    assert.equal(verified.expiresAt.toISOString().replace(".000", ""), issued.expires_at);
    await assert.rejects(client.token({ audience: "https://evil.example" }), {
      name: "SessionApiError",
      status: 400,
      code: "invalid_audience",
    });
    await assert.rejects(client.token({}), TypeError);
    const { client: anonymous } = clientFor({});
    await assert.rejects(anonymous.token({ audience: API_AUDIENCE }), { status: 401, code: "missing_token" });
  });

  test("listSessions, revokeSession, logoutOthers, logoutEverywhere", async () => {
    const one = await worker.createSession("client-b", { label: "one" });
    const two = await worker.createSession("client-b", { label: "two" });
    const three = await worker.createSession("client-b", { label: "three" });
    const { client } = clientFor(one);
    const listed = await client.listSessions();
    assert.deepEqual(listed.map((s) => [s.label, s.current]).sort(), [
      ["one", true],
      ["three", false],
      ["two", false],
    ]);

    await client.revokeSession(two.session_id);
    assert.deepEqual((await client.listSessions()).map((s) => s.label).sort(), ["one", "three"]);
    assert.equal(await client.logoutOthers(), 1);
    assert.deepEqual(
      (await client.listSessions()).map((s) => s.label),
      ["one"],
    );
    assert.equal(await client.logoutEverywhere(), 1);
    await assert.rejects(client.validate(), (e) => e instanceof SessionApiError && e.status === 401);
    assert.equal((await worker.validate(three.token)).status, 401);
  });

  test("logout clears the cookie", async () => {
    const created = await worker.createSession("client-c");
    const { client, jar } = clientFor(created);
    assert.equal(jar.size, 1);
    assert.equal(await client.logout(), undefined);
    assert.equal(jar.size, 0, "the Set-Cookie from logout removed it");
    await assert.rejects(client.validate(), { name: "SessionApiError", status: 401, code: "missing_token" });
  });

  test("each 4xx becomes a typed error with the server's code", async () => {
    const { client } = clientFor({ setCookie: `__Host-session=est_${"A".repeat(43)}; Path=/` });
    await assert.rejects(client.validate(), (e) => {
      assert.ok(e instanceof SessionApiError);
      assert.equal(e.status, 401);
      assert.equal(e.code, "session_not_found");
      assert.match(e.message, /no session/);
      return true;
    });
    const created = await worker.createSession("client-d");
    const { client: owner } = clientFor(created);
    await assert.rejects(owner.revokeSession("sid_" + "0".repeat(32)), { status: 404, code: "session_not_found" });
  });

  test("the cookie goes with every call", async () => {
    const created = await worker.createSession("client-f");
    const fetchImpl = cookieJarFetch(created.setCookie);
    const client = createSessionClient({ baseUrl: worker.url.origin, fetch: fetchImpl });
    await client.validate();
    await client.listSessions();
    await client.logout();
    assert.deepEqual(fetchImpl.sentCredentials, ["include", "include", "include"]);
  });

  test("a bearer token is used instead of the cookie, which then stays home", async () => {
    const mine = await worker.createSession("client-e");
    const other = await worker.createSession("client-other");
    // The jar holds a different session's cookie: sent along, it would make the
    // request ambiguous (400).
    const fetchImpl = cookieJarFetch(other.setCookie);
    const client = createSessionClient({ baseUrl: `${worker.url.origin}/`, token: mine.token, fetch: fetchImpl });
    assert.equal((await client.validate()).account_id, "client-e");
    assert.deepEqual(fetchImpl.sentCredentials, ["omit"]);
  });

  test("rotate() whose reply is lost retries once with the old token, and the client keeps a working token", async () => {
    for (const mode of ["bearer", "cookie"]) {
      const mine = await worker.createSession("client-rotate-lost");
      const jar = cookieJarFetch(mode === "cookie" ? mine.setCookie : undefined);
      let dropped = 0;
      // The worker rotates, then the connection drops before the answer arrives.
      const losing = async (url, init) => {
        const response = await jar(url, init);
        if (String(url).endsWith("/v1/session/rotate") && dropped++ === 0) {
          if (mode === "cookie") jar.jar.set("__Host-session", mine.token); // the Set-Cookie never arrived
          throw new TypeError("fetch failed");
        }
        return response;
      };
      const client = createSessionClient({
        baseUrl: worker.url.origin,
        token: mode === "bearer" ? mine.token : undefined,
        fetch: losing,
      });
      const rotated = await client.rotate();
      assert.equal(dropped, 2, `${mode}: one retry`);
      assert.equal(rotated.session_id, mine.session_id);
      assert.equal((await client.validate({ strong: true })).session_id, mine.session_id, `${mode}: still signed in`);
    }
  });

  test("a bearer client adopts the token that rotate() returns, so its next call still works", async () => {
    const mine = await worker.createSession("client-rotate");
    const client = createSessionClient({ baseUrl: worker.url.origin, token: mine.token, fetch: cookieJarFetch() });
    const rotated = await client.rotate();
    assert.ok(rotated.token && rotated.token !== mine.token);
    assert.equal(
      (await client.validate({ strong: true })).session_id,
      mine.session_id,
      "the next call uses the new token",
    );
    assert.equal(
      (await worker.validate(mine.token, { query: "?consistency=strong" })).status,
      401,
      "the old one is dead",
    );
  });
});
