// Device Bound Session Credentials (issue 22) in a real browser: Debian's Chromium signs
// in to the example site behind the gatekeeper on https://localhost, binds the session
// with a key of its own, refreshes the short-lived bound cookie through the worker's
// challenge (ahead of expiry, and for a page load held while the cookie is missing), a
// copy of its cookie jar stops working once that cookie expires, and a session revoked
// elsewhere ends in the browser at its next refresh.
// Chromium says what it did (and why a step failed) over CDP; every wait below that
// fails prints those reports. The test fails, never skips, when Chromium is missing or
// binds nothing.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Agent, fetch as undiciFetch } from "undici";
import { startWorker, unusedPort, sleep, ADMIN_KEY } from "./harness.mjs";
import { makeLocalhostCertificate } from "./support/localhost-tls.mjs";
import { CHROMIUM, launchDbscChromium, watchDeviceBoundSessions } from "./support/dbsc-chromium.mjs";
import { startSite } from "../../examples/site/server.mjs";

// The shortest lifetime the worker accepts: Chromium refreshes about 120 s before expiry,
// so its proactive refresh comes about 30 s after each new cookie.
const BOUND_COOKIE_TTL_SECS = 150;
const SESSION_COOKIE = "__Host-session";
const LONG_LIVED_COOKIE = "__Secure-session-dbsc";

let tls, worker, site, browser, page, dbsc, plainAgent;
/** Every request that reached the example site, as { method, path, headers }. */
const originReceived = [];

/** Node's fetch against the HTTPS worker, trusting only the test's certificate: the thief's client. */
async function plainFetch(path, init = {}) {
  const url = new URL(path, worker.url);
  const res = await undiciFetch(url, { redirect: "manual", ...init, dispatcher: plainAgent });
  await worker.checkAnswer(init.method ?? "GET", url, res);
  return res;
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/setup.sh test (it installs Debian's chromium)`);
  tls = makeLocalhostCertificate();
  plainAgent = new Agent({ connect: { ca: tls.cert } });
  const sitePort = await unusedPort();
  worker = await startWorker({
    https: tls,
    scriptPath: fileURLToPath(new URL("./clock-shift-entry.mjs", import.meta.url)),
    vars: {
      ORIGIN_URL: `http://127.0.0.1:${sitePort}`,
      LOGIN_URL: "/",
      PUBLIC_PATHS: "/,/index.html,/login,/app.js,/client.js,/config.js,/favicon.ico",
      DEVICE_BOUND_SESSIONS: "offer",
      DEVICE_BINDING_SECRET: randomBytes(32).toString("base64"),
      DBSC_COOKIE_TTL_SECS: String(BOUND_COOKIE_TTL_SECS),
    },
  });
  // The site is the gatekeeper's origin: its pages, its login and the worker's /v1/ API
  // are one origin, the worker's. Its login reaches the admin API over the same HTTPS.
  site = await startSite({
    workerUrl: worker.url.origin,
    adminKey: ADMIN_KEY,
    port: sitePort,
    publicOrigin: worker.url.origin,
    fetch: (url, init) => undiciFetch(url, { ...init, dispatcher: plainAgent }),
    onRequest: (request) => originReceived.push(request),
  });
  browser = await launchDbscChromium({ spkiSha256: tls.spkiSha256 });
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  dbsc = await watchDeviceBoundSessions(browser.context, page);
  page.on("response", async (response) => {
    const offer = await response.headerValue("secure-session-registration").catch(() => null);
    if (offer) offers.push({ url: response.url(), offer });
  });
});

after(async () => {
  await browser?.close();
  await site?.close();
  await plainAgent?.close();
  await worker?.dispose();
});

// The whole jar (a fresh profile holds only this test's cookies): a URL filter would drop the
// long-lived cookie, whose path is /v1/dbsc.
const boundCookieIn = (jar) => jar.find((c) => c.name === SESSION_COOKIE)?.value;

/** Reloads the sessions page; resolves to the Cookie header Chromium sent with it and the answer. */
async function loadSessionsPage() {
  const url = new URL("/sessions.html", worker.url).href;
  const [request, response] = await Promise.all([page.waitForRequest(url), page.goto(url)]);
  const cookie = (await request.allHeaders()).cookie ?? "";
  const sent = Object.fromEntries(cookie.split(/;\s*/).map((pair) => pair.split(/=(.*)/s).slice(0, 2)));
  return { sent, response };
}

/** Every Secure-Session-Registration header the browser received, with the URL that carried it. */
const offers = [];

/** What the origin received for the latest GET /sessions.html. */
const lastOriginVisit = () => originReceived.findLast((r) => r.method === "GET" && r.path === "/sessions.html");

// Shared by the steps, in order: each test goes on from where the previous one left off.
const state = {};

test("plumbing: Chromium loads the worker over https://localhost with no certificate error", async () => {
  const res = await page.goto(new URL("/v1/health", worker.url).href);
  assert.equal(res.status(), 200);
  assert.equal((await res.json()).status, "ok");
  const security = await res.securityDetails();
  assert.equal(security?.subjectName, "localhost", "served with the test's certificate");
});

test("signing in through the example site binds the session to a key in Chromium", async () => {
  const loginAnswer = page.waitForResponse((r) => r.url().endsWith("/login") && r.request().method() === "POST");
  await page.goto(new URL("/", worker.url).href);
  await page.fill("#username", "dbsc-alice");
  await page.fill("#device", "Chromium with DBSC");
  await Promise.all([page.waitForURL(/\/sessions\.html$/), page.click("button[type=submit]")]);
  // The long-lived token the login set, before binding rotated it.
  const loginCookie = (await (await loginAnswer).headersArray()).find(
    (h) => h.name.toLowerCase() === "set-cookie" && h.value.startsWith(`${SESSION_COOKIE}=`),
  );
  assert.ok(loginCookie, "the login answer set the session cookie");
  state.preBindingToken = loginCookie.value.split(";")[0].slice(SESSION_COOKIE.length + 1);
  assert.match(state.preBindingToken, /^est_/);

  const created = await dbsc
    .waitFor((e) => e.creationEventDetails && e.succeeded, "successful session creation", 20_000)
    .catch((e) => {
      e.message += `\nregistration offered to the browser: ${JSON.stringify(offers)}`;
      throw e;
    });
  const session = created.creationEventDetails.newSession;
  assert.match(session.key.id, /^sid_/, "the session identifier is the public session id");
  assert.equal(new URL(session.refreshUrl, worker.url).pathname, "/v1/dbsc/refresh");
  assert.equal(new URL(session.refreshUrl, worker.url).origin, worker.url.origin);
  assert.ok(
    session.cookieCravings.some((c) => c.name === SESSION_COOKIE),
    `the session cookie is the bound credential: ${JSON.stringify(session.cookieCravings)}`,
  );
  state.sid = session.key.id;

  const jar = await browser.context.cookies();
  state.firstBoundCookie = boundCookieIn(jar);
  assert.match(state.firstBoundCookie ?? "", /^esb_/, `the browser holds a bound cookie: ${JSON.stringify(jar)}`);
  const longLived = jar.find((c) => c.name === LONG_LIVED_COOKIE);
  assert.ok(longLived, "the long-lived token moved to its own cookie");
  assert.match(longLived.value, /^est_/);
  assert.notEqual(longLived.value, state.preBindingToken, "binding rotated the long-lived token");
  assert.equal(longLived.path, "/v1/dbsc");
  assert.equal(longLived.secure, true);
  assert.equal(longLived.httpOnly, true);

  // The next page load carries the bound cookie, not a token, and reaches the origin as
  // this session; a bound session is not offered registration again.
  const { sent, response } = await loadSessionsPage();
  assert.equal(sent[SESSION_COOKIE], state.firstBoundCookie);
  assert.equal(sent[LONG_LIVED_COOKIE], undefined, "the long-lived token stays on /v1/dbsc");
  assert.equal(response.status(), 200);
  assert.equal(response.headers()["secure-session-registration"], undefined);
  assert.equal(lastOriginVisit().headers["x-session-id"], state.sid);
  assert.equal(lastOriginVisit().headers["x-session-account"], "dbsc-alice");
  await page.waitForSelector("body[data-state=signed-in]");

  // One registration per session: a second offer (say, on the page's own GET /v1/session)
  // would make Chromium register again, and the worker refuse it.
  const failedCreations = dbsc.events.filter((e) => e.creationEventDetails && !e.succeeded);
  assert.deepEqual(failedCreations, [], "no registration failed");

  // A jar copied before binding is dead at once.
  const stale = await plainFetch("/v1/session", { headers: { Cookie: `${SESSION_COOKIE}=${state.preBindingToken}` } });
  assert.equal(stale.status, 401);
  assert.equal(typeof (await stale.json()).error, "string");
});

test("Chromium refreshes the bound cookie through the challenge, and the next page load carries the new one", async (t) => {
  assert.ok(state.sid, "needs the bound session of the previous step");
  const created = dbsc.events.find((e) => e.creationEventDetails?.newSession);
  // The proactive refresh is due ~120 s before expiry, i.e. ~30 s after the cookie was set.
  // Page loads inside that window let Chromium start it whether it waits for a request or not.
  const refreshDue = created.at + (BOUND_COOKIE_TTL_SECS - 120) * 1000;
  await sleep(Math.max(0, refreshDue - Date.now()));
  const isRefresh = (e) => e.refreshEventDetails && e.at >= refreshDue - 5_000;
  const deadline = Date.now() + 60_000;
  while (!dbsc.events.some(isRefresh) && Date.now() < deadline) {
    await loadSessionsPage();
    await sleep(3_000);
  }
  const refreshed = await dbsc.waitFor(isRefresh, "refresh", 1_000);
  assert.equal(refreshed.succeeded, true, `the refresh failed:\n${dbsc.report()}`);
  assert.equal(refreshed.sessionId, state.sid);
  assert.equal(refreshed.refreshEventDetails.refreshResult, "Refreshed", dbsc.report());
  t.diagnostic(
    `refreshed ${((refreshed.at - created.at) / 1000).toFixed(1)} s after creation` +
      ` (fully proactive: ${refreshed.refreshEventDetails.wasFullyProactiveRefresh})`,
  );

  const { sent, response } = await loadSessionsPage();
  assert.equal(response.status(), 200);
  assert.match(sent[SESSION_COOKIE] ?? "", /^esb_/);
  assert.notEqual(sent[SESSION_COOKIE], state.firstBoundCookie, "a new bound cookie");
  assert.equal(lastOriginVisit().headers["x-session-id"], state.sid);
});

test("with the bound cookie gone, the next page load is held, refreshed, and arrives with a new bound cookie", async () => {
  assert.ok(state.sid, "needs the bound session of the first step");
  const before = boundCookieIn(await browser.context.cookies());
  const eventsBefore = dbsc.events.length;
  await browser.context.clearCookies({ name: SESSION_COOKIE });
  const visitsBefore = originReceived.length;

  const { sent, response } = await loadSessionsPage();
  const refreshed = await dbsc.waitFor(
    (e) => dbsc.events.indexOf(e) >= eventsBefore && e.refreshEventDetails,
    "refresh of the held request",
    10_000,
  );
  assert.equal(refreshed.succeeded, true, `the refresh failed:\n${dbsc.report()}`);
  assert.equal(refreshed.refreshEventDetails.wasFullyProactiveRefresh, false, "this one held the request");
  assert.equal(response.status(), 200, "not sent to the login page");
  assert.match(sent[SESSION_COOKIE] ?? "", /^esb_/, "the held request went out with a fresh bound cookie");
  assert.notEqual(sent[SESSION_COOKIE], before);
  const visit = lastOriginVisit();
  assert.ok(originReceived.indexOf(visit) >= visitsBefore, "the page load reached the origin");
  assert.equal(visit.headers["x-session-id"], state.sid);
  state.jar = await browser.context.cookies();
  assert.equal(boundCookieIn(state.jar), sent[SESSION_COOKIE]);
});

test("the browser's cookies copied into a plain HTTP client work until the bound cookie expires, then never", async () => {
  assert.ok(state.jar, "needs the jar of the previous step");
  // The thief sends everything the jar holds, on every path.
  const stolen = state.jar.map((c) => `${c.name}=${c.value}`).join("; ");
  const longLived = state.jar.find((c) => c.name === LONG_LIVED_COOKIE).value;

  const validNow = await plainFetch("/v1/session", { headers: { Cookie: stolen } });
  assert.equal(validNow.status, 200);
  const me = await validNow.json();
  assert.equal(me.account_id, "dbsc-alice");
  assert.equal(me.session_id, state.sid);
  const pageNow = await plainFetch("/sessions.html", { headers: { Cookie: stolen, Accept: "text/html" } });
  assert.equal(pageNow.status, 200, "the gated page is served while the bound cookie lives");
  await pageNow.arrayBuffer();

  // The long-lived token alone, under the session cookie's name, is refused: the session is bound.
  const tokenOnly = await plainFetch("/v1/session", { headers: { Cookie: `${SESSION_COOKIE}=${longLived}` } });
  assert.equal(tokenOnly.status, 401);
  assert.equal(typeof (await tokenOnly.json()).error, "string");

  // Past the bound cookie's embedded expiry (the worker's clock moved on; the browser's is not).
  const moved = await plainFetch(`/__clock?advance_ms=${(BOUND_COOKIE_TTL_SECS + 10) * 1000}`, { method: "POST" });
  assert.equal(moved.status, 200, await moved.text());
  const expired = await plainFetch("/v1/session", { headers: { Cookie: stolen } });
  assert.equal(expired.status, 401);
  assert.equal(typeof (await expired.json()).error, "string");
  const originVisits = originReceived.length;
  const pageLater = await plainFetch("/sessions.html", { headers: { Cookie: stolen, Accept: "text/html" } });
  assert.ok([302, 401].includes(pageLater.status), `a navigation is refused, not served: ${pageLater.status}`);
  await pageLater.arrayBuffer();
  const apiLater = await plainFetch("/sessions.html", { headers: { Cookie: stolen, Accept: "application/json" } });
  assert.equal(apiLater.status, 401);
  assert.equal(typeof (await apiLater.json()).error, "string");
  assert.equal(originReceived.length, originVisits, "the origin saw nothing");

  // Without the key, the refresh endpoint only challenges: no new bound cookie for the thief.
  const refresh = await plainFetch("/v1/dbsc/refresh", {
    method: "POST",
    headers: { Cookie: stolen, "Sec-Secure-Session-Id": state.sid },
  });
  assert.equal(refresh.status, 403);
  assert.ok(refresh.headers.get("secure-session-challenge"), "a challenge to sign");
  assert.ok(
    !refresh.headers.getSetCookie().some((c) => c.startsWith(`${SESSION_COOKIE}=esb_`)),
    "no bound cookie without a proof",
  );
  await refresh.arrayBuffer();

  // The browser, which holds the key, is still signed in on the moved clock: its next
  // held request is refreshed.
  await browser.context.clearCookies({ name: SESSION_COOKIE });
  const { sent, response } = await loadSessionsPage();
  assert.equal(response.status(), 200, dbsc.report());
  assert.match(sent[SESSION_COOKIE] ?? "", /^esb_/);
  assert.equal(lastOriginVisit().headers["x-session-id"], state.sid);
});

test("a session revoked elsewhere ends in Chromium at its next refresh, and the page goes to the login", async (t) => {
  assert.ok(state.sid, "needs the bound session of the first step");
  const revoked = await plainFetch(`/v1/admin/accounts/dbsc-alice/sessions/${state.sid}`, {
    method: "DELETE",
    headers: { Authorization: `Bearer ${ADMIN_KEY}` },
  });
  assert.ok(revoked.ok, `the admin revoke: ${revoked.status}`);
  await revoked.arrayBuffer();

  const eventsBefore = dbsc.events.length;
  await browser.context.clearCookies({ name: SESSION_COOKIE });
  const visitsBefore = originReceived.length;
  const url = new URL("/sessions.html", worker.url).href;
  await page.goto(url);
  const terminated = await dbsc.waitFor(
    (e) => dbsc.events.indexOf(e) >= eventsBefore && e.terminationEventDetails,
    "end of the revoked session",
    10_000,
  );
  const refresh = dbsc.events.slice(eventsBefore).find((e) => e.refreshEventDetails);
  t.diagnostic(`Chromium's refresh of the revoked session: ${JSON.stringify(refresh?.refreshEventDetails)}`);
  // Chromium 156 reads {"continue": false} as the server's request only when it names the
  // session (session_identifier); without it the refresh is a FatalError (InvalidSessionId)
  // and the session is dropped as InvalidSessionParams.
  assert.equal(
    terminated.terminationEventDetails.deletionReason,
    "ServerRequested",
    `the worker's continue:false was not read as the server ending the session:\n${dbsc.report()}`,
  );
  await page.waitForURL((u) => u.pathname === "/");
  assert.equal(
    originReceived.slice(visitsBefore).filter((r) => r.path === "/sessions.html").length,
    0,
    "the gated page never reached the origin",
  );
  const jar = await browser.context.cookies();
  assert.equal(boundCookieIn(jar), undefined, `no bound cookie: ${JSON.stringify(jar)}`);
});
