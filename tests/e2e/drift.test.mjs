// Theft signals in workerd (docs/theft-signals.md): a session's baseline taken on its
// first use by a client, and what DRIFT_POLICY does when a later request's `request.cf`
// or user agent moves. `request.cf` is set per request through Miniflare's
// `dispatchFetch(url, { cf })`; nothing in the worker switches on being tested. Events
// are verified with `standardwebhooks`.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Webhook } from "standardwebhooks";
import { startWorker, kvKeyOf, sleep } from "./harness.mjs";
import { startEchoOrigin, startLoopbackServer } from "./support/origin.mjs";
import { admin, bearer, json } from "./support/requests.mjs";
import { until } from "./support/until.mjs";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
// A delivery waits for the queue's batch.
const DELIVERY_MS = 15000;

const CHROME =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const CHROME_UPDATED =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.6834.83 Safari/537.36";
const FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";

const tls = (n) => ({
  tlsClientCiphersSha1: `ciphers-${n}`,
  tlsClientExtensionsSha1: `extensions-${n}`,
  tlsVersion: "TLSv1.3",
});
/** Where and on what the session begins: Deutsche Telekom in Germany, Chrome on Windows. */
const HOME = { cf: { asn: 3320, country: "DE", ...tls(1) }, ua: CHROME, ip: "203.0.113.10" };
/** One request shape per drift class, each from its own address, as a thief's would be. */
const DRIFTS = {
  asn: { cf: { ...HOME.cf, asn: 6805 }, ua: CHROME, ip: "198.51.100.20" }, // Telefónica, still Germany
  country: { cf: { ...HOME.cf, asn: 7922, country: "US" }, ua: CHROME, ip: "198.51.100.30" },
  tls: { cf: { ...HOME.cf, ...tls(2) }, ua: CHROME, ip: "198.51.100.40" }, // the same user agent, another TLS stack
  browser: { cf: { ...HOME.cf, ...tls(3) }, ua: FIREFOX, ip: "198.51.100.50" },
};

/** GET `path` with the session's token from `client` ({ cf, ua, ip }). */
function use(worker, token, client, { path = "/v1/session", headers = {} } = {}) {
  return worker.fetch(path, {
    cf: client.cf,
    headers: { ...bearer(token), "User-Agent": client.ua, "CF-Connecting-IP": client.ip ?? HOME.ip, ...headers },
  });
}

async function startReceiver() {
  const verifier = new Webhook(SECRET);
  const accepted = [];
  const server = await startLoopbackServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      try {
        accepted.push(verifier.verify(body, req.headers));
        res.writeHead(204).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  return { url: `${server.url}/hooks`, accepted, close: server.close };
}

const eventsOf = (receiver, sessionId) => receiver.accepted.filter((e) => e.session_id === sessionId);

async function startPolicyWorker(policy, receiver, vars = {}) {
  return startWorker({
    vars: { DRIFT_POLICY: policy, WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, ...vars },
  });
}

const storedRecord = async (worker, token) => JSON.parse((await worker.kv.get(await kvKeyOf(token))) ?? "null");

describe("the baseline", () => {
  let worker;
  let receiver;
  before(async () => {
    receiver = await startReceiver();
    worker = await startPolicyWorker("asn=revoke,country=revoke,tls=revoke,browser=revoke", receiver);
  });
  after(async () => {
    await worker?.dispose();
    await receiver?.close();
  });

  test("is taken on the first use by a client, never from the create request's cf", async () => {
    // The origin's server creates the session from its own network (another country).
    const created = await worker.createSession("tofu", { user_agent: CHROME });
    assert.equal((await storedRecord(worker, created.token)).baseline, undefined, "nothing before the first use");
    assert.equal((await use(worker, created.token, HOME)).status, 200);
    const { baseline } = await storedRecord(worker, created.token);
    assert.deepEqual(Object.keys(baseline).sort(), ["country", "device", "digest"]);
    assert.deepEqual([baseline.country, baseline.device], ["DE", "Chrome on Windows"]);
    assert.match(baseline.digest, /^[0-9a-f]{16}$/);
    // Nothing moved, under the strictest policy: still 200, nothing announced.
    for (let i = 0; i < 3; i++) assert.equal((await use(worker, created.token, HOME)).status, 200);
    await sleep(1500);
    assert.deepEqual(
      eventsOf(receiver, created.session_id).map((e) => e.type),
      ["session.created"],
    );
  });

  test("a client read a moment ago is not read again: its address and user agent stand for it", async () => {
    // core::client_memory: request.cf is read once per client and minute. The ASN and the
    // country are the address's; the TLS stack is not, so a second program behind the
    // same address, sending the same user agent, passes within the minute (documented in
    // docs/theft-signals.md). From any other address the same program is read, and caught.
    const created = await worker.createSession("memory");
    assert.equal((await use(worker, created.token, HOME)).status, 200);
    const sameAddressOtherStack = { cf: { ...HOME.cf, ...tls(7) }, ua: CHROME, ip: HOME.ip };
    assert.equal((await use(worker, created.token, sameAddressOtherStack)).status, 200);
    const elsewhere = { ...sameAddressOtherStack, ip: "198.51.100.77" };
    const res = await use(worker, created.token, elsewhere);
    assert.deepEqual([res.status, (await res.json()).error], [401, "session_revoked"], "tls=revoke");
  });

  test("a browser update is no drift, even with the new TLS stack it brings", async () => {
    const created = await worker.createSession("update");
    assert.equal((await use(worker, created.token, HOME)).status, 200);
    const updated = { cf: { ...HOME.cf, ...tls(9) }, ua: CHROME_UPDATED };
    assert.equal((await use(worker, created.token, updated)).status, 200);
    assert.equal((await use(worker, created.token, updated)).status, 200);
    assert.equal((await use(worker, created.token, HOME)).status, 200, "nor is going back");
    assert.ok(!worker.logs.some((l) => l.includes('"session_anomaly"') && l.includes(created.session_id)));
  });

  test("the user agent the origin passes at create counts: a first use on another browser is drift", async () => {
    const created = await worker.createSession("created-ua", { user_agent: FIREFOX });
    const res = await use(worker, created.token, HOME); // Chrome
    assert.deepEqual([res.status, (await res.json()).error], [401, "session_revoked"]);
  });

  test("listings show where and on what each session was last used", async () => {
    const a = await worker.createSession("lister", { user_agent: CHROME });
    const b = await worker.createSession("lister", { user_agent: FIREFOX });
    const unused = await worker.createSession("lister", { user_agent: "curl/8.5.0" });
    assert.equal((await use(worker, a.token, HOME)).status, 200);
    assert.equal(
      (await use(worker, b.token, { cf: { asn: 7922, country: "US", ...tls(4) }, ua: FIREFOX })).status,
      200,
    );
    const mine = await json(await use(worker, a.token, HOME, { path: "/v1/sessions" }), 200);
    const theirs = await json(await worker.fetch("/v1/admin/accounts/lister/sessions", { headers: admin }), 200);
    for (const listing of [mine, theirs]) {
      const where = Object.fromEntries(listing.sessions.map((s) => [s.session_id, [s.device, s.country]]));
      assert.deepEqual(where, {
        [a.session_id]: ["Chrome on Windows", "DE"],
        [b.session_id]: ["Firefox on Windows", "US"],
        [unused.session_id]: ["Unknown", null],
      });
    }
  });
});

describe("each drift class under each policy", () => {
  const receivers = {};
  const workers = {};
  before(async () => {
    await Promise.all(
      ["log", "strong", "step_up", "revoke"].map(async (action) => {
        receivers[action] = await startReceiver();
        const policy = Object.keys(DRIFTS)
          .map((c) => `${c}=${action}`)
          .join(",");
        workers[action] = await startPolicyWorker(policy, receivers[action]);
      }),
    );
  });
  after(async () => {
    for (const w of Object.values(workers)) await w.dispose();
    for (const r of Object.values(receivers)) await r.close();
  });

  /** A session first used at HOME, then from `drift`; returns the drifted answer. */
  async function drifted(action, drift, account) {
    const worker = workers[action];
    const created = await worker.createSession(account);
    assert.equal((await use(worker, created.token, HOME)).status, 200);
    const res = await use(worker, created.token, DRIFTS[drift]);
    return { worker, created, res, body: await res.json() };
  }

  /** The anomaly event, verified, with its data. */
  async function anomalyOf(action, sessionId) {
    const receiver = receivers[action];
    await until(
      "the session.anomaly event",
      () => eventsOf(receiver, sessionId).some((e) => e.type === "session.anomaly"),
      DELIVERY_MS,
    );
    return eventsOf(receiver, sessionId).find((e) => e.type === "session.anomaly");
  }

  for (const drift of Object.keys(DRIFTS)) {
    test(`${drift}: log answers as usual and announces it, with coarse values only`, async () => {
      const { worker, created, res, body } = await drifted("log", drift, `log-${drift}`);
      assert.equal(res.status, 200);
      assert.equal(body.session_id, created.session_id);
      assert.equal((await use(worker, created.token, DRIFTS[drift])).status, 200);
      const event = await anomalyOf("log", created.session_id);
      assert.equal(event.reason, "log");
      assert.deepEqual(event.data.signals, [drift]);
      assert.equal(event.data.action, "log");
      const text = JSON.stringify(event);
      for (const secret of ["ciphers-", "extensions-", HOME.ip, DRIFTS[drift].ip])
        assert.ok(!text.includes(secret), text);
      if (drift === "country") assert.deepEqual(event.data.country, { from: "DE", to: "US" });
      if (drift === "asn") assert.deepEqual(event.data.asn, { from: 3320, to: 6805 });
      if (drift === "browser")
        assert.deepEqual(event.data.browser, { from: "Chrome on Windows", to: "Firefox on Windows" });
      // The move was accepted: the new client is the baseline now, and the listing says so.
      assert.equal((await storedRecord(worker, created.token)).baseline.hold, undefined);
    });

    test(`${drift}: strong lets the request through and holds the session for strong checks`, async () => {
      const { worker, created, res } = await drifted("strong", drift, `strong-${drift}`);
      assert.equal(res.status, 200);
      assert.equal((await storedRecord(worker, created.token)).baseline.hold, "strong");
      assert.equal((await use(worker, created.token, HOME)).status, 200, "the held session still works...");
      // ...checked against the account's index on every request: a revocation the
      // index has is refused even by the hot path's request.
      assert.equal((await anomalyOf("strong", created.session_id)).reason, "strong");
    });

    test(`${drift}: step_up answers reauthentication_required until the origin reauthenticates`, async () => {
      const { worker, created, res, body } = await drifted("step_up", drift, `step-${drift}`);
      assert.deepEqual([res.status, body.error, body.failed], [403, "reauthentication_required", ["drift"]]);
      const again = await use(worker, created.token, HOME);
      assert.equal(again.status, 403, "from the old place too: the hold is on the session");
      assert.equal((await storedRecord(worker, created.token)).baseline.hold, "step_up");
      assert.equal((await anomalyOf("step_up", created.session_id)).reason, "step_up");
      // The origin checks the user again: a new token, the hold lifted, a new baseline
      // taken where the user now is.
      const reauth = await worker.fetch(
        `/v1/admin/accounts/step-${drift}/sessions/${created.session_id}/reauthenticate`,
        { method: "POST", headers: { ...admin, "Content-Type": "application/json" }, body: '{"aal":1,"amr":["pwd"]}' },
      );
      const { token } = await json(reauth, 200);
      assert.equal((await storedRecord(worker, token)).baseline, undefined, "the baseline is renewed");
      assert.equal((await use(worker, token, DRIFTS[drift])).status, 200);
      assert.equal((await use(worker, token, DRIFTS[drift])).status, 200);
      assert.equal((await storedRecord(worker, token)).baseline.hold, undefined);
    });

    test(`${drift}: revoke ends the session, and a new login from there is not revoked again`, async () => {
      const { worker, created, res, body } = await drifted("revoke", drift, `revoke-${drift}`);
      assert.deepEqual([res.status, body.error], [401, "session_revoked"]);
      assert.equal((await use(worker, created.token, HOME)).status, 401);
      assert.equal(await worker.kv.get(await kvKeyOf(created.token)), null, "its KV record is gone");
      await until(
        "the session.revoked event",
        () => eventsOf(receivers.revoke, created.session_id).some((e) => e.type === "session.revoked"),
        DELIVERY_MS,
      );
      assert.deepEqual(
        eventsOf(receivers.revoke, created.session_id).map((e) => [e.type, e.reason]),
        [
          ["session.created", "created"],
          ["session.anomaly", "revoke"],
          ["session.revoked", "drift"],
        ],
      );
      // The user signs in again where they now are: that session's baseline is there.
      const relogged = await worker.createSession(`revoke-${drift}`, { user_agent: DRIFTS[drift].ua });
      for (let i = 0; i < 3; i++) assert.equal((await use(worker, relogged.token, DRIFTS[drift])).status, 200);
    });
  }

  test("with the default policy nothing escalates", async () => {
    const receiver = await startReceiver();
    const worker = await startPolicyWorker("", receiver);
    try {
      const created = await worker.createSession("defaults");
      assert.equal((await use(worker, created.token, HOME)).status, 200);
      for (const drift of Object.values(DRIFTS)) assert.equal((await use(worker, created.token, drift)).status, 200);
      assert.equal((await storedRecord(worker, created.token)).baseline.hold, undefined);
    } finally {
      await worker.dispose();
      await receiver.close();
    }
  });
});

describe("drift in the gatekeeper", () => {
  test("step_up: a navigation is sent to sign in again (302), anything else gets 403", async () => {
    const origin = await startEchoOrigin();
    const worker = await startWorker({
      vars: { ORIGIN_URL: origin.url, LOGIN_URL: "https://site.example/login", DRIFT_POLICY: "country=step_up" },
    });
    try {
      const created = await worker.createSession("gated");
      assert.equal((await use(worker, created.token, HOME, { path: "/dashboard" })).status, 200);
      const seen = origin.received.length;
      const nav = await use(worker, created.token, DRIFTS.country, {
        path: "/dashboard?tab=1",
        headers: { Accept: "text/html,application/xhtml+xml" },
      });
      assert.equal(nav.status, 302);
      assert.equal(nav.headers.get("location"), "https://site.example/login?return_to=%2Fdashboard%3Ftab%3D1&reauth=1");
      const api = await use(worker, created.token, DRIFTS.country, { path: "/api/items" });
      assert.deepEqual([api.status, (await api.json()).error], [403, "reauthentication_required"]);
      assert.equal(origin.received.length, seen, "the origin saw neither");
    } finally {
      await worker.dispose();
      await origin.close();
    }
  });
});

describe("the Durable Object is asked once per isolate, session and change", () => {
  // A location whose KV copy never shows the object's writes (the first value read for
  // each key is served forever), counting the Durable Object requests.
  const scriptPath = fileURLToPath(new URL("./stale-kv-entry.mjs", import.meta.url));
  const doRequests = async (worker) => Number(await (await worker.fetch("/__test/do-requests")).text());

  test("a drifted session used in a loop: one request per change, whatever the policy's answer", async () => {
    const worker = await startWorker({ scriptPath, vars: { DRIFT_POLICY: "tls=step_up" } });
    try {
      const created = await worker.createSession("looped");
      let before = await doRequests(worker);
      for (let i = 0; i < 50; i++) assert.equal((await use(worker, created.token, HOME)).status, 200);
      assert.equal((await doRequests(worker)) - before, 1, "the first use: one request for 50 uses");

      before = await doRequests(worker);
      for (let i = 0; i < 50; i++) assert.equal((await use(worker, created.token, DRIFTS.country)).status, 200);
      assert.equal((await doRequests(worker)) - before, 1, "a new country (log): one request for 50 uses");

      before = await doRequests(worker);
      for (let i = 0; i < 50; i++) assert.equal((await use(worker, created.token, DRIFTS.tls)).status, 403);
      assert.equal((await doRequests(worker)) - before, 1, "a new TLS stack (step_up): one request, 50 refusals");
    } finally {
      await worker.dispose();
    }
  });

  test("a revoked session's lingering KV copy, never used before: one request, then refused here", async () => {
    const worker = await startWorker({ scriptPath });
    try {
      const created = await worker.createSession("lingering");
      const copy = (await worker.dumpKv()).find((e) => e.value?.includes(created.session_id));
      await worker.fetch(`/v1/admin/accounts/lingering/sessions/${created.session_id}`, {
        method: "DELETE",
        headers: admin,
      });
      await worker.kv.put(copy.name, copy.value, { metadata: copy.metadata }); // a location KV has not reached
      const before = await doRequests(worker);
      for (let i = 0; i < 20; i++) {
        const res = await use(worker, created.token, HOME);
        assert.deepEqual([res.status, (await res.json()).error], [401, "session_not_found"]);
      }
      assert.equal((await doRequests(worker)) - before, 1, "the object said once that it has no such session");
    } finally {
      await worker.dispose();
    }
  });

  test("strong: every request asks the object, until the origin reauthenticates", async () => {
    const worker = await startWorker({ scriptPath, vars: { DRIFT_POLICY: "country=strong" } });
    try {
      const created = await worker.createSession("strongly");
      assert.equal((await use(worker, created.token, HOME)).status, 200);
      assert.equal((await use(worker, created.token, DRIFTS.country)).status, 200); // classified: strong
      const before = await doRequests(worker);
      for (let i = 0; i < 10; i++) assert.equal((await use(worker, created.token, DRIFTS.country)).status, 200);
      assert.equal((await doRequests(worker)) - before, 10, "one strong check per request");
      // The admin revokes it: the very next request is refused, whatever KV still says.
      await worker.fetch(`/v1/admin/accounts/strongly/sessions/${created.session_id}`, {
        method: "DELETE",
        headers: admin,
      });
      assert.equal((await use(worker, created.token, DRIFTS.country)).status, 401);
    } finally {
      await worker.dispose();
    }
  });
});

describe("when the account's object cannot answer", () => {
  test("the request is answered as KV's copy allows, and the next one asks again", async () => {
    const scriptPath = fileURLToPath(new URL("./lost-observe-reply-entry.mjs", import.meta.url));
    const worker = await startWorker({ scriptPath, vars: { DRIFT_POLICY: "country=revoke" } });
    try {
      const created = await worker.createSession("unreachable");
      // The first use: the reply is lost, the request still succeeds...
      assert.equal((await use(worker, created.token, HOME)).status, 200);
      // ...and the object did take the baseline.
      assert.equal((await storedRecord(worker, created.token)).baseline.country, "DE");
      // A drift it revokes for: the edge never hears, so this request goes through as
      // KV allowed it; the object ended the session, so the next one is refused.
      assert.equal((await use(worker, created.token, DRIFTS.country)).status, 200);
      assert.equal((await use(worker, created.token, DRIFTS.country)).status, 401);
      assert.ok(
        worker.logs.some((l) => l.includes("observe reply lost")),
        "the failure is logged",
      );
    } finally {
      await worker.dispose();
    }
  });
});
