// Lifecycle events delivered end to end in workerd: the account's Durable Object writes
// each event to its outbox, sends it to the EVENTS queue (Miniflare's real queues), and
// the worker's queue consumer POSTs it to a loopback receiver, signed per Standard
// Webhooks. The receiver verifies every delivery with the npm `standardwebhooks` package.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Webhook } from "standardwebhooks";
import { startWorker, kvKeyOf, sleep, wranglerConfig } from "./harness.mjs";
import { startLoopbackServer } from "./support/origin.mjs";
import { webhookProblems } from "./support/openapi-conformance.mjs";
import { bearer } from "./support/requests.mjs";
import { until } from "./support/until.mjs";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NEXT_SECRET = "whsec_bmV4dC1zZWNyZXQtZm9yLXJvdGF0aW9uLXRlc3Q=";
const secretBytes = (secret) => Buffer.from(secret.slice("whsec_".length), "base64");

/**
 * A loopback webhook receiver that verifies with `secret`. `failFirst(id)` says how many
 * times to answer 500 first. Every delivery is checked against openapi.json's `webhooks`
 * (headers and body); `close()` fails on any that breaks it.
 */
async function startReceiver({ failFirst = () => 0, secret = SECRET } = {}) {
  const verifier = new Webhook(secret);
  const deliveries = []; // every attempt, verified or not
  const accepted = []; // verified events, in arrival order
  const failures = new Map();
  const mismatches = []; // deliveries that break openapi.json's webhooks
  const server = await startLoopbackServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      let event = null;
      try {
        event = verifier.verify(body, req.headers);
      } catch {
        // recorded below as unverified
      }
      deliveries.push({ headers: req.headers, body, verified: Boolean(event) });
      for (const problem of webhookProblems(req.headers, body)) mismatches.push(`${body}: ${problem}`);
      const failed = failures.get(event?.id) ?? 0;
      if (event && failed < failFirst(event.id)) {
        failures.set(event.id, failed + 1);
        res.writeHead(500).end("try again");
        return;
      }
      if (event) accepted.push(event);
      res.writeHead(event ? 204 : 400).end();
    });
  });
  const close = async () => {
    await server.close();
    assert.deepEqual(mismatches, [], "webhooks that break openapi.json");
  };
  return { url: `${server.url}/hooks`, deliveries, accepted, close };
}

// A delivery waits for the queue's batch, and for the retries where a test asks for them.
const DELIVERY_MS = 15000;

/** Another Worker bound to this worker's queue as a producer: it queues what it is POSTed. */
const OTHER_PRODUCER = {
  name: "other-producer",
  modules: true,
  compatibilityDate: wranglerConfig.compatibility_date,
  queueProducers: { EVENTS: { queueName: "session-events" } },
  script: `export default {
    async fetch(request, env) {
      await env.EVENTS.send(await request.text());
      return new Response("queued");
    },
  };`,
};

/** A function that queues a message body (JSON-encoded) through OTHER_PRODUCER. */
async function otherProducer(worker) {
  const producer = await worker.mf.getWorker(OTHER_PRODUCER.name);
  return (body) => producer.fetch("https://producer.example/", { method: "POST", body: JSON.stringify(body) });
}

/** An event this worker never recorded; `n` (a digit) picks its id. */
const unrecordedEvent = (n) => ({
  id: `evt_${String(n).repeat(32)}`,
  type: "session.revoked",
  occurred_at: "2026-11-22T08:00:43Z",
  account_id: "victim",
  session_id: `sid_${"0".repeat(32)}`,
  reason: "admin",
  data: {},
});

const summary = (events, sessionId) => events.filter((e) => e.session_id === sessionId).map((e) => [e.type, e.reason]);

describe("lifecycle events as signed webhooks", () => {
  test("create, touch, refresh, revoke, eviction and expiry each deliver exactly their events, in order", async () => {
    const receiver = await startReceiver();
    const worker = await startWorker({
      vars: {
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_RETRY_DELAY_SECS: "1",
        TOUCH_INTERVAL_SECS: "1",
        MAX_SESSIONS_PER_ACCOUNT: "2",
      },
    });
    try {
      const a = await worker.createSession("hooked");
      const b = await worker.createSession("hooked");
      const c = await worker.createSession("hooked"); // evicts a
      await sleep(1100);
      assert.equal((await worker.validate(b.token)).status, 200); // touch, after the response
      const refreshed = await worker.fetch("/v1/session/refresh", { method: "POST", headers: bearer(c.token) });
      assert.equal(refreshed.status, 200);
      await until(
        "b's touch",
        () => receiver.accepted.some((e) => e.session_id === b.session_id && e.type === "session.refreshed"),
        DELIVERY_MS,
      );
      assert.equal((await worker.fetch("/v1/session", { method: "DELETE", headers: bearer(b.token) })).status, 204);
      const d = await worker.createSession("hooked", { idle_ttl_secs: 1 });
      await until(
        "d's expiry",
        () => receiver.accepted.some((e) => e.session_id === d.session_id && e.type === "session.expired"),
        DELIVERY_MS,
      );
      await sleep(300);

      assert.deepEqual(summary(receiver.accepted, a.session_id), [
        ["session.created", "created"],
        ["session.evicted", "session_limit"],
      ]);
      assert.deepEqual(summary(receiver.accepted, b.session_id), [
        ["session.created", "created"],
        ["session.refreshed", "touch"],
        ["session.revoked", "logout"],
      ]);
      assert.deepEqual(summary(receiver.accepted, c.session_id), [
        ["session.created", "created"],
        ["session.refreshed", "refresh"],
      ]);
      assert.deepEqual(summary(receiver.accepted, d.session_id), [
        ["session.created", "created"],
        ["session.expired", "idle"],
      ]);
      assert.equal(receiver.accepted.length, 9, "nothing else, and nothing twice");

      for (const event of receiver.accepted) {
        assert.deepEqual(Object.keys(event).sort(), [
          "account_id",
          "data",
          "id",
          "occurred_at",
          "reason",
          "session_id",
          "type",
        ]);
        assert.match(event.id, /^evt_[0-9a-f]{32}$/);
        assert.equal(event.account_id, "hooked");
        assert.match(event.occurred_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      }
      assert.equal(new Set(receiver.accepted.map((e) => e.id)).size, 9, "ids are unique");
      for (const delivery of receiver.deliveries) {
        assert.ok(delivery.verified, "every delivery carries a valid signature");
        assert.equal(delivery.headers["webhook-id"], JSON.parse(delivery.body).id);
        assert.match(delivery.headers["webhook-signature"], /^v1,[A-Za-z0-9+/]+=*$/);
      }
      // No event, and no log line, holds a token or a token hash.
      const secrets = [];
      for (const s of [a, b, c, d]) secrets.push(s.token, (await kvKeyOf(s.token)).slice("session:".length));
      const everything = receiver.deliveries.map((d) => d.body).join("\n") + worker.logs.join("\n");
      for (const secret of secrets) assert.ok(!everything.includes(secret), "a token or hash leaked");
    } finally {
      await worker.dispose();
      await receiver.close();
    }
  });

  test("a receiver that fails twice gets the event on the third try, with the same webhook-id", async () => {
    let first;
    const receiver = await startReceiver({ failFirst: (id) => ((first ??= id) === id ? 2 : 0) });
    const worker = await startWorker({
      vars: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_DELAY_SECS: "1" },
    });
    try {
      const s = await worker.createSession("flaky-receiver");
      await until("the third try", () => receiver.accepted.some((e) => e.id === first), DELIVERY_MS);
      const tries = receiver.deliveries.filter((d) => d.headers["webhook-id"] === first);
      assert.equal(tries.length, 3);
      assert.ok(
        tries.every((t) => t.verified && t.body === tries[0].body),
        "the same event each time",
      );
      assert.deepEqual(summary(receiver.accepted, s.session_id), [["session.created", "created"]]);
    } finally {
      await worker.dispose();
      await receiver.close();
    }
  });

  test("events whose queue sends fail stay in the outbox and arrive when the alarm retries", async () => {
    const receiver = await startReceiver();
    const failingSends = fileURLToPath(new URL("./failing-event-sends-entry.mjs", import.meta.url));
    const worker = await startWorker({
      scriptPath: failingSends,
      vars: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_DELAY_SECS: "1" },
    });
    try {
      const s = await worker.createSession("outage"); // its send fails
      await worker.fetch("/v1/session", { method: "DELETE", headers: bearer(s.token) }); // so does this one
      await sleep(1500);
      assert.equal(receiver.accepted.length, 0, "nothing was delivered during the outage");
      assert.ok(worker.logs.some((l) => l.includes("sending events failed, will retry")));
      await until("the alarm's retry", () => receiver.accepted.length === 2, 30000);
      assert.deepEqual(summary(receiver.accepted, s.session_id), [
        ["session.created", "created"],
        ["session.revoked", "logout"],
      ]);
    } finally {
      await worker.dispose();
      await receiver.close();
    }
  });

  test("staggered send failures lose no event: every session.created arrives once the retries are done", async () => {
    // Sends 1, 2 and 4 fail. a's and b's first sends fail six seconds apart; the alarm
    // then delivers a's; c's first send fails; d is created once b's retry is due but
    // c's is not, so d's send carries b's event and d's, with c's between them in the
    // outbox, not yet due. c's event must stay there until it is sent.
    const receiver = await startReceiver();
    const staggered = fileURLToPath(new URL("./staggered-event-sends-entry.mjs", import.meta.url));
    const worker = await startWorker({
      scriptPath: staggered,
      vars: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_DELAY_SECS: "1" },
    });
    const created = (s) => receiver.accepted.some((e) => e.session_id === s.session_id && e.type === "session.created");
    try {
      const a = await worker.createSession("staggered"); // send 1 fails; the alarm retries in 10 s
      await sleep(6000);
      const b = await worker.createSession("staggered"); // send 2 fails
      const bRetryDue = Date.now() + 10000;
      await until("a's event, sent by the alarm", () => created(a), 30000); // send 3
      const c = await worker.createSession("staggered"); // send 4 fails; b's retry is not due yet
      await sleep(Math.max(0, bRetryDue + 1500 - Date.now()));
      const d = await worker.createSession("staggered"); // b's retry is due, c's is not
      await until("every session.created", () => [a, b, c, d].every(created), 60000);

      assert.equal(worker.logs.filter((l) => l.includes("sending events failed, will retry")).length, 3);
      const ids = [a, b, c, d].map((s) => s.session_id);
      const events = receiver.accepted.filter((e) => e.type === "session.created");
      assert.deepEqual([...new Set(events.map((e) => e.session_id))].sort(), [...ids].sort());
      assert.equal(new Set(events.map((e) => e.id)).size, 4, "one event per session");
      assert.ok(
        receiver.deliveries.every((d) => d.verified),
        "every delivery carries a valid signature",
      );
    } finally {
      await worker.dispose();
      await receiver.close();
    }
  });

  test("a message that this worker's outbox did not seal is dropped, never signed", async () => {
    // Another Worker bound to the same queue as a producer sends what the consumer used
    // to sign and post: a bare event (also what an older build queued), and the sealed
    // shape with a made-up seal and with none.
    const receiver = await startReceiver();
    const worker = await startWorker({
      vars: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_DELAY_SECS: "1" },
      extraWorkers: [OTHER_PRODUCER],
    });
    try {
      const send = await otherProducer(worker);
      await send(unrecordedEvent(1));
      await send({ event: unrecordedEvent(2), mac: Buffer.alloc(32, 7).toString("base64") });
      await send({ event: unrecordedEvent(3) });
      const forgedIds = [1, 2, 3].map((n) => unrecordedEvent(n).id);
      const s = await worker.createSession("sealed");

      const dropped = () => worker.logs.filter((l) => l.includes("not sealed by this worker's outbox")).length;
      const forgedArrived = () => receiver.deliveries.some((d) => forgedIds.includes(d.headers["webhook-id"]));
      await until(
        "the real event, and the forged ones handled",
        () => summary(receiver.accepted, s.session_id).length === 1 && (forgedArrived() || dropped() === 3),
      );
      assert.ok(!forgedArrived(), "no forged message was signed and posted");
      assert.equal(dropped(), 3, "each forged message is logged as dropped");
      assert.deepEqual(summary(receiver.accepted, s.session_id), [["session.created", "created"]]);
      assert.equal(receiver.accepted.length, 1);
    } finally {
      await worker.dispose();
      await receiver.close();
    }
  });

  test("while WEBHOOK_SECRET_PREVIOUS is set, every delivery verifies with either secret alone", async () => {
    // The receiver still verifies with the previous secret; it can switch at any time.
    const receiver = await startReceiver({ secret: SECRET });
    const worker = await startWorker({
      vars: {
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET: NEXT_SECRET,
        WEBHOOK_SECRET_PREVIOUS: SECRET,
        WEBHOOK_RETRY_DELAY_SECS: "1",
      },
      extraWorkers: [OTHER_PRODUCER],
    });
    try {
      // A message the outbox sealed before the rotation, still in the queue: sealed with
      // the key derived from the previous secret (docs/events.md, "The queue message").
      const event = JSON.stringify(unrecordedEvent(9));
      const sealKey = createHmac("sha256", secretBytes(SECRET)).update("edge-sessions outbox v1").digest();
      const mac = createHmac("sha256", sealKey).update(event).digest("base64");
      const send = await otherProducer(worker);
      await send({ event: JSON.parse(event), mac });

      const s = await worker.createSession("rotating");
      assert.equal((await worker.fetch("/v1/session", { method: "DELETE", headers: bearer(s.token) })).status, 204);
      await until("both events", () => summary(receiver.accepted, s.session_id).length === 2);
      await until("the message sealed before the rotation", () =>
        receiver.accepted.some((e) => e.id === unrecordedEvent(9).id),
      );
      assert.deepEqual(summary(receiver.accepted, s.session_id), [
        ["session.created", "created"],
        ["session.revoked", "logout"],
      ]);

      const previous = new Webhook(SECRET);
      const next = new Webhook(NEXT_SECRET);
      const other = new Webhook("whsec_" + Buffer.alloc(24, 1).toString("base64"));
      assert.equal(receiver.deliveries.length, 3);
      for (const { body, headers } of receiver.deliveries) {
        assert.equal(previous.verify(body, headers).id, headers["webhook-id"]);
        assert.equal(next.verify(body, headers).id, headers["webhook-id"]);
        assert.throws(() => other.verify(body, headers));
        assert.match(headers["webhook-signature"], /^v1,[A-Za-z0-9+/]+=* v1,[A-Za-z0-9+/]+=*$/);
      }
      assert.equal(receiver.deliveries.find((d) => d.headers["webhook-id"] === unrecordedEvent(9).id).body, event);
    } finally {
      await worker.dispose();
      await receiver.close();
    }
  });

  test("a WEBHOOK_URL with a user name or password is invalid_config naming it", async () => {
    // `localhost:1` is userinfo there: the request would go to hooks.example, over http.
    for (const url of ["http://localhost:1@hooks.example/in", "https://user:password@hooks.example/in"]) {
      const worker = await startWorker({ vars: { WEBHOOK_URL: url, WEBHOOK_SECRET: SECRET } });
      try {
        const res = await worker.fetch("/v1/session");
        assert.equal(res.status, 500, url);
        const body = await res.json();
        assert.equal(body.error, "invalid_config");
        assert.match(body.message, /WEBHOOK_URL/);
        assert.match(body.message, /userinfo/);
        assert.ok(!body.message.includes("hooks.example"), "the message does not echo the URL");
      } finally {
        await worker.dispose();
      }
    }
  });

  test("a bad WEBHOOK_URL is invalid_config naming it", async () => {
    const worker = await startWorker({ vars: { WEBHOOK_URL: "http://hooks.example.com/in", WEBHOOK_SECRET: SECRET } });
    try {
      const res = await worker.fetch("/v1/session");
      assert.equal(res.status, 500);
      const body = await res.json();
      assert.equal(body.error, "invalid_config");
      assert.match(body.message, /WEBHOOK_URL/);
    } finally {
      await worker.dispose();
    }
  });
});
