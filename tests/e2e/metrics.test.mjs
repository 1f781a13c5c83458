// The Analytics Engine data points (src/edge/metrics.rs, docs/observability.md), read
// from a METRICS binding wrapped to keep them (metrics-entry.mjs), over a KV that keeps
// serving what it first read, so a strong check meets a revoked session that KV still
// accepts: a stale hit, whose age the test knows.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startWorker, ADMIN_KEY, kvKeyOf, sleep } from "./harness.mjs";

const entry = fileURLToPath(new URL("./metrics-entry.mjs", import.meta.url));
const bearer = (token) => ({ Authorization: `Bearer ${token}` });

describe("metrics", () => {
  let worker;
  const points = async () => (await worker.fetch("/__test/metrics")).json();
  // The fields of a data point by name (docs/observability.md).
  const named = (p) => ({
    route: p.blobs[0],
    check: p.blobs[1],
    outcome: p.blobs[2],
    code: p.blobs[3],
    colo: p.blobs[4],
    stale: p.blobs[5],
    status: p.doubles[0],
    touch: p.doubles[1],
    staleAgeSecs: p.doubles[2],
    index: p.indexes[0],
  });

  before(async () => {
    worker = await startWorker({ scriptPath: entry, vars: { TOUCH_INTERVAL_SECS: "0" } });
  });
  after(() => worker?.dispose());

  test("one data point per answer: route, check, outcome, code, touch and colo, nothing identifying", async () => {
    const createdAt = Math.floor(Date.now() / 1000);
    const s = await worker.createSession("metrics-plain");
    await worker.fetch("/v1/session", { headers: bearer(s.token), cf: { colo: "AMS" } });
    // With TOUCH_INTERVAL_SECS=0 any later second extends the session: a first use that
    // fell in the next second than the create's touched it too.
    const firstUseTouched = Math.floor(Date.now() / 1000) !== createdAt;
    await sleep(1100); // a second later, use extends the session (TOUCH_INTERVAL_SECS=0)
    await worker.fetch("/v1/session", { headers: bearer(s.token), cf: { colo: "AMS" } });
    await worker.fetch("/v1/session", { headers: bearer(`est_${"A".repeat(43)}`), cf: { colo: "NRT" } });
    await worker.fetch("/v1/admin/accounts/metrics-plain/sessions", {
      headers: { Authorization: "Bearer wrong-key-0123456789-0123456789-0123" },
    });
    const all = (await points()).map(named);
    if (firstUseTouched) all.at(-4).touch = 0; // the create and the first use straddled a second
    assert.deepEqual(all.slice(-5), [
      {
        route: "admin",
        check: "none",
        outcome: "ok",
        code: "",
        colo: "DFW", // Miniflare's placeholder request.cf
        stale: "",
        status: 201,
        touch: 0,
        staleAgeSecs: 0,
        index: "admin",
      },
      {
        route: "validate",
        check: "eventual",
        outcome: "ok",
        code: "",
        colo: "AMS",
        stale: "",
        status: 200,
        touch: 0,
        staleAgeSecs: 0,
        index: "validate",
      },
      {
        route: "validate",
        check: "eventual",
        outcome: "ok",
        code: "",
        colo: "AMS",
        stale: "",
        status: 200,
        touch: 1,
        staleAgeSecs: 0,
        index: "validate",
      },
      {
        route: "validate",
        check: "eventual",
        outcome: "refused",
        code: "session_not_found",
        colo: "NRT",
        stale: "",
        status: 401,
        touch: 0,
        staleAgeSecs: 0,
        index: "validate",
      },
      {
        route: "admin",
        check: "none",
        outcome: "refused",
        code: "invalid_admin_key",
        colo: "DFW",
        stale: "",
        status: 401,
        touch: 0,
        staleAgeSecs: 0,
        index: "admin",
      },
    ]);
    const text = JSON.stringify(await points());
    for (const secret of [s.token, (await kvKeyOf(s.token)).slice("session:".length), s.session_id, "metrics-plain"])
      assert.ok(!text.includes(secret), `a data point carries ${secret.slice(0, 12)}…`);
  });

  test("a strong check refusing what KV accepted is a stale hit, with the seconds since the revocation", async () => {
    const s = await worker.createSession("metrics-stale");
    // KV's first answer for this key is now the live record, for good.
    assert.equal((await worker.validate(s.token)).status, 200);
    const revoke = await worker.fetch(`/v1/admin/accounts/metrics-stale/sessions/${s.session_id}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${ADMIN_KEY}` },
    });
    assert.equal(revoke.status, 204);
    const revokedAt = Date.now();
    assert.equal((await worker.validate(s.token)).status, 200, "the stale copy still validates");
    await sleep(3000);
    const strong = await worker.fetch("/v1/session?consistency=strong", {
      headers: bearer(s.token),
      cf: { colo: "FRA" },
    });
    assert.equal(strong.status, 401);
    const elapsed = Math.round((Date.now() - revokedAt) / 1000);
    const hit = (await points()).map(named).at(-1);
    assert.equal(hit.stale, "stale_hit");
    assert.equal(hit.colo, "FRA");
    assert.equal(hit.check, "strong");
    assert.equal(hit.code, "session_not_found");
    // Whole seconds on both sides: the age is within a second of the time measured here.
    assert.ok(Math.abs(hit.staleAgeSecs - elapsed) <= 1, `age ${hit.staleAgeSecs}, measured ${elapsed}`);
  });

  test("the same strong check of a session KV never had is no stale hit", async () => {
    const res = await worker.fetch("/v1/session?consistency=strong", { headers: bearer(`est_${"B".repeat(43)}`) });
    assert.equal(res.status, 401);
    assert.equal(named((await points()).at(-1)).stale, "");
  });

  test("a refused admin key leaves one warning line, without the key", async () => {
    const key = "another-wrong-key-0123456789-0123456789";
    const before = worker.logs.length;
    await worker.fetch("/v1/admin/accounts/x/sessions", { headers: { Authorization: `Bearer ${key}` } });
    await sleep(200);
    const lines = worker.logs.slice(before).filter((l) => l.includes("admin key"));
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.equal(JSON.parse(lines[0].slice(lines[0].indexOf("{"))).level, "warn");
    assert.ok(!worker.logs.some((l) => l.includes(key)));
  });
});

describe("metrics: the session's state", () => {
  let worker;
  const points = async () => (await worker.fetch("/__test/metrics")).json();
  const state = (p) => ({ route: p.blobs[0], binding: p.blobs[6], drift: p.blobs[7], acting: p.blobs[8] });
  before(async () => {
    const vars = { DEVICE_BOUND_SESSIONS: "offer", DEVICE_BINDING_SECRET: Buffer.alloc(32, 9).toString("base64") };
    worker = await startWorker({ scriptPath: entry, vars });
  });
  after(() => worker?.dispose());

  test("binding, drift and impersonation, as coarse words (docs/observability.md)", async () => {
    const { deviceKey, parseRegistration, proof } = await import("./support/dbsc-client.mjs");
    const s = await worker.createSession("metrics-state");
    const cf = { country: "DE", asn: 3320, colo: "FRA" };
    await worker.fetch("/v1/session", { headers: bearer(s.token), cf }); // first use: the object takes the baseline
    await worker.fetch("/v1/session", { headers: bearer(s.token), cf });
    const opened = await worker.fetch("/v1/admin/accounts/metrics-state/impersonations", {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_KEY}`, "Content-Type": "application/json" },
      body: JSON.stringify({ actor: "support@example.com", reason: "ticket 9", ttl_secs: 600 }),
    });
    const acting = await opened.json();
    await worker.fetch("/v1/session", { headers: bearer(acting.token), cf });
    await worker.fetch("/v1/session", { headers: bearer(`est_${"C".repeat(43)}`), cf });
    const cookie = { Cookie: `__Host-session=${s.token}` };
    const offer = parseRegistration(
      (await worker.fetch("/v1/session", { headers: cookie, cf })).headers.get("Secure-Session-Registration"),
    );
    const key = await deviceKey();
    const signed = await proof(key, { jti: offer.challenge, authorization: offer.authorization }, { withKey: true });
    const registered = await worker.fetch(offer.path, {
      method: "POST",
      headers: { ...cookie, "Secure-Session-Response": signed },
      cf,
    });
    assert.equal(registered.status, 200, await registered.clone().text());
    const bound = registered.headers.getSetCookie()[0].split(";")[0];
    await worker.fetch("/v1/session", { headers: { Cookie: bound }, cf });
    const validations = (await points()).map(state).filter((p) => p.route === "validate");
    assert.deepEqual(validations, [
      { route: "validate", binding: "unbound", drift: "observed", acting: "" },
      { route: "validate", binding: "unbound", drift: "", acting: "" },
      { route: "validate", binding: "unbound", drift: "observed", acting: "impersonation" },
      { route: "validate", binding: "", drift: "", acting: "" },
      { route: "validate", binding: "unbound", drift: "", acting: "" },
      { route: "validate", binding: "bound", drift: "", acting: "" },
    ]);
  });
});
