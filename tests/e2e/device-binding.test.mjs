// Device-bound sessions (W3C DBSC) end to end in workerd, with a protocol client whose
// device keys are WebCrypto keys (support/dbsc-client.mjs): registration, bound
// requests, the refresh challenge, replays, another key's proof, revocation, and a
// copied cookie jar outliving its bound cookie. The real browser is dbsc-browser.test.mjs.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startWorker, kvKeyOf, ADMIN_KEY } from "./harness.mjs";
import { admin, bearer, json } from "./support/requests.mjs";
import { startEchoOrigin } from "./support/origin.mjs";
import { generateKeyPair, exportJWK } from "jose";
import { createAdminClient, createAssertionVerifier } from "../../origin/index.js";
import { CookieJar, deviceKey, parseChallenge, parseRegistration, proof } from "./support/dbsc-client.mjs";

const SECRET = Buffer.alloc(32, 7).toString("base64");
const TTL = 150;
const VARS = { DEVICE_BOUND_SESSIONS: "offer", DEVICE_BINDING_SECRET: SECRET, DBSC_COOKIE_TTL_SECS: String(TTL) };
const clockShift = fileURLToPath(new URL("./clock-shift-entry.mjs", import.meta.url));

/** A browser with a fresh session: its jar holds the session cookie the admin create set. */
async function signedIn(worker, account) {
  const created = await worker.createSession(account);
  const jar = new CookieJar();
  jar.cookies.set("__Host-session", { value: created.token, attributes: ["Path=/"] });
  return { created, jar };
}

/** What a DBSC browser does after a registration header: make a key, sign, POST. */
async function register(worker, jar, offer, alg = "ES256") {
  const key = await deviceKey(alg);
  const signed = await proof(key, { jti: offer.challenge, authorization: offer.authorization }, { withKey: true });
  const res = await worker.fetch(offer.path, {
    method: "POST",
    headers: { Cookie: jar.header(offer.path), "Secure-Session-Response": signed, Authorization: offer.authorization },
  });
  jar.take(res);
  return { key, res };
}

async function offerFor(worker, jar) {
  const res = await worker.fetch("/v1/session", { headers: { Cookie: jar.header("/v1/session") } });
  assert.equal(res.status, 200);
  return parseRegistration(res.headers.get("Secure-Session-Registration"));
}

/** A refresh as the browser makes it: first without a proof, then answering the challenge. */
async function refresh(worker, jar, key, sessionId) {
  const headers = () => ({ Cookie: jar.header("/v1/dbsc/refresh"), "Sec-Secure-Session-Id": `"${sessionId}"` });
  const first = await worker.fetch("/v1/dbsc/refresh", { method: "POST", headers: headers() });
  assert.equal(first.status, 403, await first.clone().text());
  const { challenge, id } = parseChallenge(first.headers.get("Secure-Session-Challenge"));
  assert.equal(id, sessionId);
  const signed = await proof(key, { jti: challenge });
  const res = await worker.fetch("/v1/dbsc/refresh", {
    method: "POST",
    headers: { ...headers(), "Secure-Session-Response": signed },
  });
  jar.take(res);
  return res;
}

const validate = (worker, jar) => worker.fetch("/v1/session", { headers: { Cookie: jar.header("/v1/session") } });

describe("device-bound sessions", () => {
  let worker;
  before(async () => {
    worker = await startWorker({ vars: VARS });
  });
  after(async () => {
    await worker?.dispose();
  });

  test("an unbound cookie holder is offered registration; a bearer holder and a bound session are not", async () => {
    const { created, jar } = await signedIn(worker, "dbsc-offer");
    assert.match(created.device_binding_registration, /^\(ES256 RS256\);path="\/v1\/dbsc\/register";challenge="/);
    const offer = await offerFor(worker, jar);
    assert.deepEqual(offer.algs, ["ES256", "RS256"]);
    assert.equal(offer.path, "/v1/dbsc/register");
    assert.match(offer.challenge, /^[A-Za-z0-9_-]{32}$/);
    assert.match(offer.authorization, /^[A-Za-z0-9_-]{32}$/);
    const asBearer = await worker.fetch("/v1/session", { headers: bearer(created.token) });
    assert.equal(asBearer.status, 200);
    assert.equal(asBearer.headers.get("Secure-Session-Registration"), null);
    await register(worker, jar, offer);
    const bound = await validate(worker, jar);
    assert.equal(bound.status, 200);
    assert.equal(bound.headers.get("Secure-Session-Registration"), null);
  });

  test("registration binds the key, rotates the token away from the jar, and bound requests pass", async () => {
    const { created, jar } = await signedIn(worker, "dbsc-register");
    const before = await worker.dumpKv();
    const { key, res } = await register(worker, jar, await offerFor(worker, jar));
    const instructions = await json(res, 200);
    assert.equal(res.headers.get("Cache-Control"), "no-store");
    assert.equal(res.headers.get("X-Frame-Options"), "DENY");
    assert.equal(res.headers.get("Access-Control-Allow-Origin"), null);
    assert.deepEqual(instructions, {
      session_identifier: created.session_id,
      refresh_url: "/v1/dbsc/refresh",
      scope: { origin: worker.url.origin, include_site: false, scope_specification: [] },
      credentials: [{ type: "cookie", name: "__Host-session", attributes: "Path=/; Secure; HttpOnly; SameSite=Lax" }],
    });
    const [boundCookie, refreshCookie] = res.headers.getSetCookie();
    assert.match(
      boundCookie,
      new RegExp(`^__Host-session=esb_[A-Za-z0-9_-]+; Max-Age=${TTL}; Path=/; Secure; HttpOnly; SameSite=Lax$`),
    );
    assert.match(
      refreshCookie,
      /^__Secure-session-dbsc=est_[A-Za-z0-9_-]{43}; Max-Age=\d+; Path=\/v1\/dbsc; Secure; HttpOnly; SameSite=None$/,
    );
    const longLived = jar.get("__Secure-session-dbsc");
    assert.notEqual(longLived, created.token, "binding moved the session to a new token");
    assert.equal(
      jar.header("/v1/session"),
      `__Host-session=${jar.get("__Host-session")}`,
      "ordinary requests no longer carry the token",
    );

    // KV: the old key is gone; the new one says the session is bound to this key.
    const after = await worker.dumpKv();
    const [oldKey, newKey] = [await kvKeyOf(created.token), await kvKeyOf(longLived)];
    assert.ok(before.some((e) => e.name === oldKey));
    assert.ok(!after.some((e) => e.name === oldKey));
    const stored = JSON.parse(after.find((e) => e.name === newKey).value);
    assert.equal(stored.device_binding.jkt, key.thumbprint);
    assert.ok(!JSON.stringify(after).includes(longLived), "no token in KV");

    const bound = await json(await validate(worker, jar), 200);
    assert.equal(bound.session_id, created.session_id);
    assert.equal(bound.device_bound, true);
    const listed = await json(await worker.fetch("/v1/admin/accounts/dbsc-register/sessions", { headers: admin }), 200);
    assert.deepEqual(
      listed.sessions.map((s) => [s.session_id, s.device_bound]),
      [[created.session_id, true]],
    );
    const holder = await json(
      await worker.fetch("/v1/sessions", { headers: { Cookie: jar.header("/v1/sessions") } }),
      200,
    );
    assert.equal(holder.sessions[0].device_bound, true);
    const events = worker.logs
      .filter((l) => l.includes(created.session_id) && l.includes('"event"'))
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      events.filter((e) => ["session_bound", "session_rotated"].includes(e.event)).map((e) => [e.event, e.reason]),
      [
        ["session_bound", "dbsc"],
        ["session_rotated", "device_binding"],
      ],
    );
  });

  test("after binding, the pre-binding token is dead and the long-lived token alone is refused", async () => {
    const { created, jar } = await signedIn(worker, "dbsc-downgrade");
    const copiedBefore = jar.copy();
    await register(worker, jar, await offerFor(worker, jar));
    const old = await json(await validate(worker, copiedBefore), 401);
    assert.equal(old.error, "session_not_found");
    const longLived = jar.get("__Secure-session-dbsc");
    for (const headers of [bearer(longLived), { Cookie: `__Host-session=${longLived}` }]) {
      const res = await worker.fetch("/v1/session", { headers });
      assert.equal((await json(res, 401)).error, "bound_cookie_required");
      const strong = await worker.fetch("/v1/session?consistency=strong", { headers });
      assert.equal((await json(strong, 401)).error, "bound_cookie_required");
      const list = await worker.fetch("/v1/sessions", { headers });
      assert.equal((await json(list, 401)).error, "bound_cookie_required");
    }
    // A second registration is refused: binding is once per session.
    const again = await register(worker, jar.copy(), {
      path: "/v1/dbsc/register",
      challenge: "x".repeat(32),
      authorization: "y".repeat(32),
    });
    assert.equal((await json(again.res, 409)).error, "session_already_bound");
    assert.ok(created.token);
  });

  test("refresh answers a challenge, then a proof by the bound key gets a new bound cookie (RS256)", async () => {
    const { created, jar } = await signedIn(worker, "dbsc-refresh");
    const { key } = await register(worker, jar, await offerFor(worker, jar), "RS256");
    const first = jar.get("__Host-session");
    const res = await refresh(worker, jar, key, created.session_id);
    const body = await json(res, 200);
    assert.equal(body.session_identifier, created.session_id);
    assert.equal(res.headers.getSetCookie().length, 1, "only the bound cookie is renewed");
    assert.ok(parseChallenge(res.headers.get("Secure-Session-Challenge")), "the next challenge comes ahead of time");
    assert.match(res.headers.getSetCookie()[0], new RegExp(`^__Host-session=esb_[A-Za-z0-9_-]+; Max-Age=${TTL};`));
    assert.ok(jar.get("__Host-session").startsWith("esb_") && first.startsWith("esb_"));
    assert.equal((await validate(worker, jar)).status, 200);
    // A same-named cookie tossed in from a sibling subdomain does not end the session.
    const tossed = jar.copy();
    const real = tossed.get("__Secure-session-dbsc");
    tossed.cookies.delete("__Secure-session-dbsc");
    tossed.cookies.set("__Secure-session-dbsc", { value: `est_${"T".repeat(43)}`, attributes: ["Path=/v1/dbsc"] });
    tossed.cookies.set("__Secure-session-dbsc ", { value: real, attributes: ["Path=/v1/dbsc"] });
    assert.equal((await refresh(worker, tossed, key, created.session_id)).status, 200);
  });

  test("a proof for the previous challenge is accepted; a replayed or foreign one is refused", async () => {
    const { created, jar } = await signedIn(worker, "dbsc-replay");
    const { key } = await register(worker, jar, await offerFor(worker, jar));
    const headers = () => ({
      Cookie: jar.header("/v1/dbsc/refresh"),
      "Sec-Secure-Session-Id": `"${created.session_id}"`,
    });
    const ask = () => worker.fetch("/v1/dbsc/refresh", { method: "POST", headers: headers() });
    const c1 = parseChallenge((await ask()).headers.get("Secure-Session-Challenge")).challenge;
    await new Promise((r) => setTimeout(r, 5));
    const c2 = parseChallenge((await ask()).headers.get("Secure-Session-Challenge")).challenge;
    assert.notEqual(c1, c2);
    const send = async (signed) =>
      jar.take(
        await worker.fetch("/v1/dbsc/refresh", {
          method: "POST",
          headers: { ...headers(), "Secure-Session-Response": signed },
        }),
      );
    const p1 = await proof(key, { jti: c1 });
    assert.equal((await send(p1)).status, 200, "the previous challenge is still good");
    const replay = await send(p1);
    assert.equal(replay.status, 403, "a replayed proof gets a new challenge, not a cookie");
    assert.ok(parseChallenge(replay.headers.get("Secure-Session-Challenge")));
    assert.equal((await send(await proof(key, { jti: c2 }))).status, 200, "a newer challenge is taken once too");
    // A challenge issued for another session never refreshes this one.
    const other = await signedIn(worker, "dbsc-replay-other");
    const otherOffer = await offerFor(worker, other.jar);
    const foreign = await send(await proof(key, { jti: otherOffer.challenge }));
    assert.equal(foreign.status, 403);
  });

  test("a proof signed by another key is refused and the session revoked", async () => {
    const { created, jar } = await signedIn(worker, "dbsc-stolen");
    await register(worker, jar, await offerFor(worker, jar));
    const thief = await deviceKey("ES256");
    const res = await refresh(worker, jar.copy(), thief, created.session_id);
    assert.equal((await json(res, 401)).error, "device_key_mismatch");
    assert.equal((await json(await validate(worker, jar), 401)).error, "session_not_found");
    const revoked = worker.logs
      .filter((l) => l.includes(created.session_id) && l.includes('"session_revoked"'))
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      revoked.map((e) => e.reason),
      ["binding_mismatch"],
    );
  });

  test("a revoked session's refresh answers continue: false and clears its cookies", async () => {
    const { created, jar } = await signedIn(worker, "dbsc-revoked");
    const { key } = await register(worker, jar, await offerFor(worker, jar));
    const revoke = await worker.fetch(`/v1/admin/accounts/dbsc-revoked/sessions/${created.session_id}`, {
      method: "DELETE",
      headers: admin,
    });
    assert.equal(revoke.status, 204);
    const headers = { Cookie: jar.header("/v1/dbsc/refresh"), "Sec-Secure-Session-Id": `"${created.session_id}"` };
    // KV may still hold the record here (it does not in one location), so either the
    // located record is gone or the object says the session has ended.
    const challenge = await worker.fetch("/v1/dbsc/refresh", { method: "POST", headers });
    let res = challenge;
    if (challenge.status === 403) {
      const { challenge: c } = parseChallenge(challenge.headers.get("Secure-Session-Challenge"));
      res = await worker.fetch("/v1/dbsc/refresh", {
        method: "POST",
        headers: { ...headers, "Secure-Session-Response": await proof(key, { jti: c }) },
      });
    }
    assert.deepEqual(await json(res, 200), { session_identifier: created.session_id, continue: false });
    assert.deepEqual(
      res.headers.getSetCookie().map((c) => c.split(";")[0]),
      ["__Host-session=", "__Secure-session-dbsc="],
    );
  });

  test("a reauthentication keeps the binding: the origin SDK hands over both new cookies", async () => {
    const { created, jar } = await signedIn(worker, "dbsc-reauth");
    await register(worker, jar, await offerFor(worker, jar));
    const sdk = createAdminClient({ baseUrl: worker.url.origin, adminKey: ADMIN_KEY });
    const again = await sdk.reauthenticate("dbsc-reauth", created.session_id, { aal: 2 });
    assert.equal(again.deviceBound, true);
    assert.equal(again.deviceBindingRegistration, undefined, "a bound session is offered nothing");
    assert.equal(again.setCookies.length, 2);
    assert.match(again.setCookies[0], /^__Host-session=esb_/);
    assert.match(again.setCookies[1], /^__Secure-session-dbsc=est_.*; Path=\/v1\/dbsc;/);
    const browser = new CookieJar();
    browser.take({ headers: { getSetCookie: () => again.setCookies } });
    const body = await json(await validate(worker, browser), 200);
    assert.deepEqual([body.session_id, body.aal, body.device_bound], [created.session_id, 2, true]);
    assert.equal(
      (await json(await worker.fetch("/v1/session", { headers: bearer(again.token) }), 401)).error,
      "bound_cookie_required",
    );
  });

  test("an impersonation session is never offered binding, nor bound", async () => {
    const opened = await worker.fetch("/v1/admin/accounts/dbsc-imp/impersonations", {
      method: "POST",
      headers: { ...admin, "Content-Type": "application/json" },
      body: JSON.stringify({ actor: "support@example.com", reason: "ticket 1", ttl_secs: 600 }),
    });
    const { token } = await json(opened, 201);
    const cookie = { Cookie: `__Host-session=${token}` };
    const res = await worker.fetch("/v1/session", { headers: cookie });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("Secure-Session-Registration"), null);
    const key = await deviceKey();
    const signed = await proof(key, { jti: "x".repeat(32), authorization: "y".repeat(32) }, { withKey: true });
    const register = await worker.fetch("/v1/dbsc/register", {
      method: "POST",
      headers: { ...cookie, "Secure-Session-Response": signed },
    });
    assert.equal((await json(register, 403)).error, "impersonation_forbidden");
  });

  test("bad DBSC input gets a 4xx JSON error and changes nothing", async () => {
    const { created, jar } = await signedIn(worker, "dbsc-junk");
    const offer = await offerFor(worker, jar);
    const post = (path, headers) =>
      worker.fetch(path, { method: "POST", headers: { Cookie: jar.header(path), ...headers } });
    for (const junk of ["", "a.b.c", "x".repeat(5000), "e30.e30.", `${"eyJhbGciOiJFUzI1NiJ9"}.e30.AA`]) {
      const res = await post("/v1/dbsc/register", { "Secure-Session-Response": junk });
      assert.ok([400, 431].includes(res.status), `${junk.slice(0, 20)}: ${res.status}`);
      assert.ok((await res.json()).error);
    }
    // A proof whose signature is not its key's.
    const key = await deviceKey();
    const forged = (
      await proof(key, { jti: offer.challenge, authorization: offer.authorization }, { withKey: true })
    ).replace(/.{4}$/, "AAAA");
    assert.equal(
      (await json(await post("/v1/dbsc/register", { "Secure-Session-Response": forged }), 400)).error,
      "invalid_device_proof",
    );
    // The right key, the wrong authorization.
    const wrongAuth = await proof(key, { jti: offer.challenge, authorization: offer.challenge }, { withKey: true });
    assert.equal(
      (await json(await post("/v1/dbsc/register", { "Secure-Session-Response": wrongAuth }), 400)).error,
      "invalid_device_proof",
    );
    const noId = await post("/v1/dbsc/refresh", {});
    assert.equal((await json(noId, 401)).error, "missing_token");
    const badId = await post("/v1/dbsc/refresh", { "Sec-Secure-Session-Id": '"unterminated' });
    assert.equal((await json(badId, 400)).error, "invalid_device_proof");
    const unknown = await post("/v1/dbsc/refresh", { "Sec-Secure-Session-Id": '"sid_nope"' });
    assert.deepEqual(await json(unknown, 200), { session_identifier: "sid_nope", continue: false });
    const preflight = await worker.fetch("/v1/dbsc/refresh", {
      method: "OPTIONS",
      headers: { Origin: "https://evil.example" },
    });
    assert.equal(preflight.status, 405);
    assert.equal(preflight.headers.get("Access-Control-Allow-Origin"), null);
    // Nothing changed: the session is unbound and works with its token.
    const still = await json(await worker.fetch("/v1/session", { headers: bearer(created.token) }), 200);
    assert.equal(still.device_bound, false);
  });
});

describe("a copied cookie jar", () => {
  let worker;
  before(async () => {
    worker = await startWorker({ vars: VARS, scriptPath: clockShift });
  });
  after(async () => {
    await worker?.dispose();
  });

  test("a jar copied after binding works until its bound cookie expires, then never again", async () => {
    const { created, jar } = await signedIn(worker, "dbsc-copied");
    const { key } = await register(worker, jar, await offerFor(worker, jar));
    const stolen = jar.copy();
    assert.equal((await validate(worker, stolen)).status, 200, "the copy works while its bound cookie lives");
    // Nor does rotating, with a forged allowed Origin, mint the copy a fresh bound cookie.
    const rotate = await worker.fetch("/v1/session/rotate", {
      method: "POST",
      headers: { Cookie: stolen.header("/v1/session/rotate") },
    });
    assert.equal((await json(rotate, 409)).error, "session_already_bound");
    assert.deepEqual(rotate.headers.getSetCookie(), []);
    await worker.fetch(`/__clock?advance_ms=${(TTL + 1) * 1000}`, { method: "POST" });
    assert.equal((await json(await validate(worker, stolen), 401)).error, "bound_cookie_expired");
    // The thief holds the long-lived token too, but not the key: no refresh, no bearer.
    const longLived = stolen.get("__Secure-session-dbsc");
    assert.equal(
      (await json(await worker.fetch("/v1/session", { headers: bearer(longLived) }), 401)).error,
      "bound_cookie_required",
    );
    const thiefRefresh = await refresh(worker, stolen, await deviceKey(), created.session_id);
    assert.equal(thiefRefresh.status, 401);
    // ... and that attempt ended the session for the real browser too.
    const owner = await worker.fetch("/v1/dbsc/refresh", {
      method: "POST",
      headers: { Cookie: jar.header("/v1/dbsc/refresh"), "Sec-Secure-Session-Id": `"${created.session_id}"` },
    });
    assert.deepEqual(await json(owner, 200), { session_identifier: created.session_id, continue: false });
    assert.ok(key);
  });

  test("the browser, holding the key, keeps its session past the bound cookie's lifetime", async () => {
    const { created, jar } = await signedIn(worker, "dbsc-kept");
    const { key } = await register(worker, jar, await offerFor(worker, jar));
    await worker.fetch(`/__clock?advance_ms=${(TTL + 1) * 1000}`, { method: "POST" });
    assert.equal((await validate(worker, jar)).status, 401);
    assert.equal((await refresh(worker, jar, key, created.session_id)).status, 200);
    assert.equal((await json(await validate(worker, jar), 200)).device_bound, true);
  });
});

describe("device binding behind the gatekeeper", () => {
  let worker, origin, verifier;
  const ISSUER = "https://sessions.example.com";
  before(async () => {
    origin = await startEchoOrigin();
    const { privateKey } = await generateKeyPair("EdDSA", { extractable: true, crv: "Ed25519" });
    const signingKey = JSON.stringify(await exportJWK(privateKey));
    worker = await startWorker({ vars: { ...VARS, ORIGIN_URL: origin.url, ISSUER, SIGNING_KEY: signingKey } });
    verifier = createAssertionVerifier({
      jwksUrl: new URL("/v1/jwks.json", worker.url),
      issuer: ISSUER,
      audience: origin.url,
    });
  });
  after(async () => {
    await worker?.dispose();
    await origin?.close();
  });

  const page = (jar, headers = {}) =>
    worker.fetch("/dashboard", { headers: { Cookie: jar.header("/dashboard"), Accept: "text/html", ...headers } });

  test("a page load of an unbound session carries the offer on the origin's answer; a fetch does not", async () => {
    const { created, jar } = await signedIn(worker, "dbsc-gate");
    const navigation = await page(jar, { "Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate" });
    assert.equal(navigation.status, 200);
    const offer = parseRegistration(navigation.headers.get("Secure-Session-Registration"));
    assert.equal(offer?.path, "/v1/dbsc/register");
    const seen = await navigation.json();
    assert.equal(seen.headers["x-session-id"], created.session_id);
    const unboundIdentity = await verifier.verify(seen.headers["x-session-assertion"]);
    assert.equal(unboundIdentity.deviceKeyThumbprint, null);
    const subresource = await page(jar, { "Sec-Fetch-Dest": "image" });
    assert.equal(subresource.headers.get("Secure-Session-Registration"), null);
    const api = await worker.fetch("/api/data", {
      headers: { Cookie: jar.header("/api/data"), Accept: "application/json" },
    });
    assert.equal(api.headers.get("Secure-Session-Registration"), null);

    // Bound: the page passes on the bound cookie, which never reaches the origin, and is
    // offered nothing more; the long-lived token alone is refused before the origin.
    const { key } = await register(worker, jar, offer);
    const before = origin.received.length;
    const bound = await page(jar, { "Sec-Fetch-Dest": "document" });
    assert.equal(bound.status, 200);
    assert.equal(bound.headers.get("Secure-Session-Registration"), null);
    const forwarded = origin.received.at(-1);
    assert.equal(forwarded.headers["x-session-id"], created.session_id);
    assert.ok(
      !(forwarded.headers.cookie ?? "").includes("esb_"),
      "the bound cookie is stripped like the session cookie",
    );
    const longLived = jar.get("__Secure-session-dbsc");
    const downgrade = await worker.fetch("/dashboard", { headers: { Cookie: `__Host-session=${longLived}` } });
    assert.equal((await json(downgrade, 401)).error, "bound_cookie_required");
    assert.equal(origin.received.length, before + 1, "the refused request never reached the origin");
  });
});
