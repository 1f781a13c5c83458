// The origin SDK's middlewares behind the worker in gatekeeper mode, end to end: one
// loopback origin serves the same routes three ways, with Express, with Node's plain
// `http` (both `@edge-sessions/origin/node`) and with Hono (`@edge-sessions/origin/hono`,
// served through its fetch handler). Requests through the worker carry a real signed
// X-Session-Assertion; requests straight to the origin show what it refuses.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import express from "express";
import { Hono } from "hono";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { edgeSession as nodeEdgeSession } from "../../origin/node.js";
import { edgeSession as honoEdgeSession } from "../../origin/hono.js";
import { createAssertionVerifier } from "../../origin/index.js";
import { startWorker } from "./harness.mjs";
import { startLoopbackServer } from "./support/origin.mjs";
import { bearer } from "./support/requests.mjs";

const ISSUER = "https://sessions.example";
// Fixed, so one origin on any port is the assertions' audience.
const AUDIENCE = "https://origin.example";

/** The requirements of each route, the same in the three frameworks. */
const ROUTES = {
  any: {},
  aal2: { minAal: 2 },
  fresh: { maxAge: 60 },
  admin: { claim: { name: "role", value: "admin" } },
  ops: {
    claim: [
      { name: "role", value: "admin" },
      { name: "teams", test: (v) => Array.isArray(v) && v.includes("ops") },
    ],
  },
};

/** What a route answers once let through: the session the middleware put on the request. */
const seen = (session, framework) => ({
  framework,
  accountId: session.accountId,
  sessionId: session.sessionId,
  claims: session.claims,
  aal: session.aal,
});

/** The three origins behind one loopback server, by path: /express/*, /http/*, /hono/*. */
function originApp(verifier) {
  const app = express();
  for (const [name, requirements] of Object.entries(ROUTES))
    app.get(`/express/${name}`, nodeEdgeSession({ verifier, ...requirements }), (req, res) =>
      res.json(seen(req.edgeSession, "express")),
    );

  const plain = Object.fromEntries(
    Object.entries(ROUTES).map(([name, requirements]) => [
      `/http/${name}`,
      nodeEdgeSession({ verifier, ...requirements }),
    ]),
  );

  const hono = new Hono();
  for (const [name, requirements] of Object.entries(ROUTES))
    hono.get(`/hono/${name}`, honoEdgeSession({ verifier, ...requirements }), (c) =>
      c.json(seen(c.get("edgeSession"), "hono")),
    );

  return async (req, res) => {
    if (req.url === "/capture")
      return res
        .writeHead(200, { "Content-Type": "application/json" })
        .end(JSON.stringify({ assertion: req.headers["x-session-assertion"] }));
    if (req.url.startsWith("/express/")) return app(req, res);
    if (req.url.startsWith("/http/")) {
      const gate = plain[req.url];
      if (!gate) return res.writeHead(404).end();
      return gate(req, res, () => {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify(seen(req.edgeSession, "http")));
      });
    }
    // Hono's own Node adapter does this: the request as a Fetch Request, the answer back.
    const request = new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers: req.headers });
    const answer = await hono.fetch(request);
    res.writeHead(answer.status, Object.fromEntries(answer.headers));
    res.end(Buffer.from(await answer.arrayBuffer()));
  };
}

describe("middleware behind the gatekeeper", () => {
  let worker, origin;
  before(async () => {
    const { privateKey } = await generateKeyPair("EdDSA", { extractable: true, crv: "Ed25519" });
    // The verifier needs the worker's key set and the worker needs the origin's URL:
    // the origin starts first and is handed its verifier once the worker is up.
    let handler = (req, res) => res.writeHead(503).end();
    origin = await startLoopbackServer((req, res) => handler(req, res));
    worker = await startWorker({
      vars: {
        ORIGIN_URL: origin.url,
        ISSUER,
        SIGNING_KEY: JSON.stringify(await exportJWK(privateKey)),
        ASSERTION_AUDIENCE: AUDIENCE,
      },
    });
    const verifier = createAssertionVerifier({
      jwksUrl: new URL("/v1/jwks.json", worker.url),
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    handler = originApp(verifier);
  });
  after(async () => {
    await worker?.dispose();
    await origin?.close();
  });

  /** Through the worker: its assertion, for a session made with `body`. */
  const through = async (path, body) => {
    const s = await worker.createSession(`mw-${path.split("/")[1]}-${path.split("/")[2]}`, body);
    const res = await worker.fetch(path, { headers: { ...bearer(s.token), Accept: "application/json" } });
    return { s, status: res.status, body: await res.json(), headers: res.headers };
  };
  /** Straight to the origin, with `headers`: what an attacker who found it could send. */
  const direct = async (path, headers = {}) => {
    const res = await fetch(`${origin.url}${path}`, { headers });
    return { status: res.status, body: await res.json(), headers: res.headers };
  };
  const nowSecs = () => Math.floor(Date.now() / 1000);
  /** The assertion the worker forwards for session `s`, as the origin's /capture route saw it. */
  const capturedAssertion = async (s) =>
    (await (await worker.fetch("/capture", { headers: bearer(s.token) })).json()).assertion;

  for (const framework of ["express", "http", "hono"]) {
    describe(framework, () => {
      test("accepted: the verified session is on the request", async () => {
        const r = await through(`/${framework}/any`, { claims: { role: "viewer" }, aal: 1 });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.deepEqual(r.body, {
          framework,
          accountId: r.s.account_id,
          sessionId: r.s.session_id,
          claims: { role: "viewer" },
          aal: 1,
        });
      });

      test("refused without an assertion: 401 missing_assertion, as JSON, never reaching the route", async () => {
        const r = await direct(`/${framework}/any`);
        assert.equal(r.status, 401);
        assert.equal(r.headers.get("content-type").split(";")[0], "application/json");
        assert.equal(r.headers.get("cache-control"), "no-store");
        assert.equal(r.body.error, "missing_assertion");
        assert.equal(r.body.accountId, undefined);
      });

      test("refused with a forged assertion: a foreign key, and a genuine one with its payload changed", async () => {
        const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
        const forged = await new SignJWT({ sid: "sid_" + "0".repeat(32), aal: 3, auth_time: nowSecs() })
          .setProtectedHeader({ alg: "EdDSA", typ: "gateway+jwt", kid: "attacker" })
          .setSubject("admin")
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setIssuedAt()
          .setExpirationTime("1m")
          .sign(privateKey);
        const foreign = await direct(`/${framework}/any`, { "X-Session-Assertion": forged });
        assert.deepEqual([foreign.status, foreign.body.error], [401, "unknown_key"]);

        const genuine = await capturedAssertion(await worker.createSession("mw-tamper", { aal: 1 }));
        assert.equal((await direct(`/${framework}/any`, { "X-Session-Assertion": genuine })).status, 200);
        const [h, p, sig] = genuine.split(".");
        const payload = { ...JSON.parse(Buffer.from(p, "base64url")), sub: "admin", aal: 3 };
        const tampered = `${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${sig}`;
        const refused = await direct(`/${framework}/any`, { "X-Session-Assertion": tampered });
        assert.deepEqual([refused.status, refused.body.error], [401, "invalid_signature"]);
      });

      test("minAal: a level-1 session is refused 403 reauthentication_required, a level-2 one passes", async () => {
        const weak = await through(`/${framework}/aal2`, { aal: 1, amr: ["pwd"] });
        assert.equal(weak.status, 403);
        assert.deepEqual(
          [weak.body.error, weak.body.failed, weak.body.aal, weak.body.authenticated_at],
          ["reauthentication_required", ["min_aal"], 1, weak.s.authenticated_at],
        );
        const strong = await through(`/${framework}/aal2`, { aal: 2, amr: ["pwd", "otp"] });
        assert.deepEqual([strong.status, strong.body.aal], [200, 2]);
      });

      test("maxAge: a login five minutes old is refused for a 60 s limit, a new one passes", async () => {
        const old = await through(`/${framework}/fresh`, { authenticated_at: nowSecs() - 300 });
        assert.equal(old.status, 403);
        assert.deepEqual([old.body.error, old.body.failed], ["reauthentication_required", ["max_age"]]);
        assert.equal(old.body.authenticated_at, old.s.authenticated_at);
        const fresh = await through(`/${framework}/fresh`, {});
        assert.equal(fresh.status, 200);
      });

      test("claim: a missing or different value is refused 403 claim_required; a predicate too", async () => {
        const none = await through(`/${framework}/admin`, {});
        assert.deepEqual([none.status, none.body.error, none.body.claim], [403, "claim_required", "role"]);
        const viewer = await through(`/${framework}/admin`, { claims: { role: "viewer" } });
        assert.deepEqual([viewer.status, viewer.body.error], [403, "claim_required"]);
        assert.doesNotMatch(JSON.stringify(viewer.body), /admin/, "the needed value is not told");
        const admin = await through(`/${framework}/admin`, { claims: { role: "admin" } });
        assert.deepEqual([admin.status, admin.body.claims], [200, { role: "admin" }]);

        const notOps = await through(`/${framework}/ops`, { claims: { role: "admin", teams: ["web"] } });
        assert.deepEqual([notOps.status, notOps.body.claim], [403, "teams"]);
        const ops = await through(`/${framework}/ops`, { claims: { role: "admin", teams: ["web", "ops"] } });
        assert.equal(ops.status, 200);
      });
    });
  }

  test("a key set that cannot be fetched is 503 jwks_unavailable, not a refusal of the caller", async (t) => {
    const unreachable = await startLoopbackServer((req, res) => res.writeHead(500).end());
    t.after(() => unreachable.close());
    const genuine = await capturedAssertion(await worker.createSession("mw-jwks"));
    const verifier = createAssertionVerifier({
      jwksUrl: `${unreachable.url}/v1/jwks.json`,
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    const gate = nodeEdgeSession({ verifier });
    const app = new Hono().get("/x", honoEdgeSession({ verifier }), (c) => c.text("reached"));
    const honoAnswer = await app.fetch(new Request("http://o/x", { headers: { "X-Session-Assertion": genuine } }));
    assert.deepEqual([honoAnswer.status, (await honoAnswer.json()).error], [503, "jwks_unavailable"]);
    const plain = await startLoopbackServer((req, res) => gate(req, res, () => res.end("reached")));
    t.after(() => plain.close());
    const res = await fetch(`${plain.url}/x`, { headers: { "X-Session-Assertion": genuine } });
    assert.deepEqual([res.status, (await res.json()).error], [503, "jwks_unavailable"]);
  });

  test("options are checked when the middleware is made", () => {
    const verifier = { verify: async () => ({}) };
    for (const make of [nodeEdgeSession, honoEdgeSession]) {
      assert.throws(() => make({ verifier, minAal: 4 }), TypeError);
      assert.throws(() => make({ verifier, maxAge: -1 }), TypeError);
      assert.throws(() => make({ verifier, claim: { name: "role" } }), TypeError);
      assert.throws(() => make({ verifier, claim: { name: "role", value: "a", test: () => true } }), TypeError);
      assert.throws(() => make({ jwksUrl: "https://a.example/jwks" }), TypeError);
    }
  });
});
