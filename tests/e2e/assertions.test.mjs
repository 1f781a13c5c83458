// Identity the origin can verify, end to end in workerd: signed session assertions on
// gated requests and from GET /v1/session/token, the key set at /v1/jwks.json, key
// rotation, session claims, and the origin SDK (edge-sessions/origin) verifying with jose.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { exportJWK, generateKeyPair, SignJWT, calculateJwkThumbprint, decodeProtectedHeader } from "jose";
import { createAssertionVerifier, createAdminClient, AssertionError, AdminApiError } from "../../origin/index.js";
import { startWorker, sleep, ADMIN_KEY } from "./harness.mjs";
import { startEchoOrigin } from "./support/origin.mjs";
import { adminJson as admin, bearer, json } from "./support/requests.mjs";

// ISSUER is required with SIGNING_KEY: the `iss` never follows the host a request reached.
const ISSUER = "https://sessions.example";

async function privateJwk(alg) {
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    crv: alg === "EdDSA" ? "Ed25519" : undefined,
  });
  return exportJWK(privateKey);
}

for (const alg of ["EdDSA", "ES256"]) {
  describe(`signed assertions (${alg})`, () => {
    let origin, worker, verifier, key;
    before(async () => {
      origin = await startEchoOrigin();
      key = await privateJwk(alg);
      worker = await startWorker({
        vars: {
          ORIGIN_URL: origin.url,
          PUBLIC_PATHS: "/public/*",
          ISSUER,
          SIGNING_KEY: JSON.stringify(key),
          ASSERTION_AUDIENCES: "https://api.example.com",
        },
      });
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

    test("the key set publishes the public key only, with kid, alg and use", async () => {
      const res = await worker.fetch("/v1/jwks.json");
      assert.equal(res.headers.get("cache-control"), "public, max-age=300");
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
      const { keys } = await res.json();
      assert.equal(keys.length, 1);
      assert.equal(keys[0].d, undefined, "never a private parameter");
      assert.deepEqual([keys[0].alg, keys[0].use], [alg, "sig"]);
      assert.equal(keys[0].kid, await calculateJwkThumbprint(key, "sha256"), "kid is the RFC 7638 thumbprint");
    });

    test("a gated forward carries an assertion the SDK verifies, with the session's claims", async () => {
      const s = await worker.createSession("signed", {
        claims: { role: "editor", tenant: "acme", flags: { beta: true } },
        aal: 2,
        amr: ["pwd", "otp"],
      });
      const seen = await (await worker.fetch("/dashboard", { headers: bearer(s.token) })).json();
      const jwt = seen.headers["x-session-assertion"];
      assert.equal(decodeProtectedHeader(jwt).typ, "gateway+jwt");
      const verified = await verifier.verify({ headers: seen.headers });
      assert.deepEqual([verified.accountId, verified.sessionId], ["signed", s.session_id]);
      assert.deepEqual(verified.claims, { role: "editor", tenant: "acme", flags: { beta: true } });
      assert.deepEqual([verified.aal, verified.amr], [2, ["pwd", "otp"]]);
      assert.equal(verified.authTime.getTime(), Date.parse(s.authenticated_at));
      const { iss, aud, exp, iat } = verified.payload;
      assert.deepEqual([iss, aud, exp - iat], [ISSUER, origin.url, 60]);
    });

    test("a client-sent X-Session-Assertion never reaches the origin", async () => {
      const forged = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.";
      const pub = await (await worker.fetch("/public/x", { headers: { "X-Session-Assertion": forged } })).json();
      assert.equal(pub.headers["x-session-assertion"], undefined);
      const s = await worker.createSession("forger");
      const gated = await (
        await worker.fetch("/x", { headers: { ...bearer(s.token), X_Session_Assertion: forged } })
      ).json();
      assert.notEqual(gated.headers["x-session-assertion"], forged);
      assert.equal(gated.headers.x_session_assertion, undefined);
      assert.equal((await verifier.verify(gated.headers["x-session-assertion"])).accountId, "forger");
    });

    test("the SDK refuses a tampered payload, a wrong audience and an unknown kid", async () => {
      const s = await worker.createSession("refusals");
      const jwt = (await (await worker.fetch("/x", { headers: bearer(s.token) })).json()).headers[
        "x-session-assertion"
      ];
      const [h, p, sig] = jwt.split(".");
      const payload = JSON.parse(Buffer.from(p, "base64url"));
      payload.sub = "someone-else";
      const tampered = `${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${sig}`;
      await assert.rejects(
        verifier.verify(tampered),
        (e) => e instanceof AssertionError && e.code === "invalid_signature",
      );
      const elsewhere = createAssertionVerifier({
        jwksUrl: new URL("/v1/jwks.json", worker.url),
        issuer: ISSUER,
        audience: "https://other.example",
      });
      await assert.rejects(elsewhere.verify(jwt), { code: "invalid_claims" });
      const stranger = await privateJwk(alg);
      const { importJWK } = await import("jose");
      const foreign = await new SignJWT({ sid: s.session_id })
        .setProtectedHeader({ alg, kid: "not-ours", typ: "JWT" })
        .setSubject("refusals")
        .setIssuer(ISSUER)
        .setAudience(origin.url)
        .setIssuedAt()
        .setExpirationTime("1m")
        .sign(await importJWK(stranger, alg));
      await assert.rejects(verifier.verify(foreign), { code: "unknown_key" });
      await assert.rejects(verifier.verify({ headers: {} }), { code: "missing_assertion" });
    });

    test("GET /v1/session/token for an allowed audience, and 400 invalid_audience otherwise", async () => {
      const s = await worker.createSession("spa", { claims: { plan: "pro" } });
      const res = await worker.fetch("/v1/session/token?audience=https%3A%2F%2Fapi.example.com", {
        headers: bearer(s.token),
      });
      assert.equal(res.headers.get("cache-control"), "no-store");
      const body = await json(res, 200);
      const api = createAssertionVerifier({
        jwksUrl: new URL("/v1/jwks.json", worker.url),
        issuer: ISSUER,
        audience: "https://api.example.com",
        kind: "access_token",
      });
      const verified = await api.verify(body.token);
      assert.equal(verified.claims.plan, "pro");
      assert.equal(verified.expiresAt.toISOString().replace(".000", ""), body.expires_at);
      const bad = await worker.fetch("/v1/session/token?audience=https%3A%2F%2Fevil.example", {
        headers: bearer(s.token),
      });
      assert.equal((await json(bad, 400)).error, "invalid_audience");
      assert.equal(
        (await json(await worker.fetch("/v1/session/token?audience=https%3A%2F%2Fapi.example.com"), 401)).error,
        "missing_token",
      );
    });

    test("the page token is not a gateway assertion: typ at+jwt against gateway+jwt, each verifier takes only its kind", async () => {
      const s = await worker.createSession("two-kinds");
      const gateway = (await (await worker.fetch("/x", { headers: bearer(s.token) })).json()).headers[
        "x-session-assertion"
      ];
      const page = (
        await json(
          await worker.fetch("/v1/session/token?audience=https%3A%2F%2Fapi.example.com", { headers: bearer(s.token) }),
          200,
        )
      ).token;
      assert.equal(decodeProtectedHeader(gateway).typ, "gateway+jwt");
      assert.equal(decodeProtectedHeader(page).typ, "at+jwt", "RFC 9068");
      const jwksUrl = new URL("/v1/jwks.json", worker.url);
      const issuer = ISSUER;
      // Each verifier is given the other kind's audience, so only the kind refuses it.
      const gatewayAtApi = createAssertionVerifier({ jwksUrl, issuer, audience: "https://api.example.com" });
      await assert.rejects(
        gatewayAtApi.verify(page),
        (e) => e instanceof AssertionError && e.code === "invalid_claims" && /typ/.test(e.message),
      );
      await assert.rejects(gatewayAtApi.verify({ headers: { "x-session-assertion": page } }), {
        code: "invalid_claims",
      });
      const tokenAtOrigin = createAssertionVerifier({ jwksUrl, issuer, audience: origin.url, kind: "access_token" });
      await assert.rejects(tokenAtOrigin.verify(gateway), { code: "invalid_claims" });
      assert.equal((await verifier.verify(gateway)).accountId, "two-kinds");
      const api = createAssertionVerifier({
        jwksUrl,
        issuer,
        audience: "https://api.example.com",
        kind: "access_token",
      });
      assert.equal((await api.verify(page)).accountId, "two-kinds");
      assert.equal(
        (await api.verify({ headers: { authorization: `Bearer ${page}` } })).sessionId,
        s.session_id,
        "an API reads it from Authorization",
      );
      assert.throws(() => createAssertionVerifier({ jwksUrl, issuer, audience: origin.url, kind: "JWT" }), TypeError);

      // Never the gatekeeper's audience: no default, and not by name either.
      const none = await json(await worker.fetch("/v1/session/token", { headers: bearer(s.token) }), 400);
      assert.equal(none.error, "invalid_audience");
      assert.match(none.message, /ASSERTION_AUDIENCES/);
      const forwarded = await worker.fetch(`/v1/session/token?audience=${encodeURIComponent(origin.url)}`, {
        headers: bearer(s.token),
      });
      assert.equal((await json(forwarded, 400)).error, "invalid_audience");
    });
  });
}

describe("keys and claims", () => {
  test("rotation: an assertion signed under key 1 verifies once the worker runs key 2 with key 1 as previous", async () => {
    const origin = await startEchoOrigin();
    const [key1, key2] = [await privateJwk("EdDSA"), await privateJwk("ES256")];
    const first = await startWorker({ vars: { ORIGIN_URL: origin.url, ISSUER, SIGNING_KEY: JSON.stringify(key1) } });
    let jwt;
    try {
      const s = await first.createSession("rotating-keys");
      jwt = (await (await first.fetch("/x", { headers: bearer(s.token) })).json()).headers["x-session-assertion"];
    } finally {
      await first.dispose();
    }
    const { d, ...public1 } = key1;
    const second = await startWorker({
      vars: {
        ORIGIN_URL: origin.url,
        ISSUER,
        SIGNING_KEY: JSON.stringify(key2),
        SIGNING_KEY_PREVIOUS: JSON.stringify(public1),
      },
    });
    try {
      const { keys } = await (await second.fetch("/v1/jwks.json")).json();
      assert.deepEqual(
        keys.map((k) => k.kid),
        [await calculateJwkThumbprint(key2), await calculateJwkThumbprint(key1)],
        "current first",
      );
      assert.ok(keys.every((k) => k.d === undefined));
      const verifier = createAssertionVerifier({
        jwksUrl: new URL("/v1/jwks.json", second.url),
        issuer: ISSUER,
        audience: origin.url,
      });
      assert.equal((await verifier.verify(jwt)).accountId, "rotating-keys");
    } finally {
      await second.dispose();
      await origin.close();
    }
  });

  test("SIGNING_KEY_NEXT is published and never signs, so a verifier has the next key cached before it signs", async (t) => {
    const origin = await startEchoOrigin();
    t.after(() => origin.close());
    const [key1, key2] = [await privateJwk("EdDSA"), await privateJwk("ES256")];
    const [kid1, kid2] = [await calculateJwkThumbprint(key1), await calculateJwkThumbprint(key2)];
    const { d, ...public1 } = key1;
    // One key-set URL in front of both deployments, as a verifier sees it, counting fetches.
    let deployed;
    let fetches = 0;
    const jwksHost = createServer(async (req, res) => {
      fetches += 1;
      const upstream = await deployed.fetch("/v1/jwks.json");
      res.writeHead(upstream.status, { "Content-Type": "application/json" }).end(await upstream.text());
    });
    await new Promise((resolve) => jwksHost.listen(0, "127.0.0.1", resolve));
    t.after(
      () =>
        new Promise((resolve) => {
          jwksHost.closeAllConnections();
          jwksHost.close(resolve);
        }),
    );
    const issuer = ISSUER;
    const verifier = createAssertionVerifier({
      jwksUrl: `http://127.0.0.1:${jwksHost.address().port}/v1/jwks.json`,
      issuer,
      audience: origin.url,
    });
    const gatedAssertion = async (worker, account) => {
      const s = await worker.createSession(account);
      return (await (await worker.fetch("/x", { headers: bearer(s.token) })).json()).headers["x-session-assertion"];
    };

    // Step 1: key 1 signs; key 2 is published ahead of its use.
    deployed = await startWorker({
      vars: {
        ORIGIN_URL: origin.url,
        ISSUER: issuer,
        SIGNING_KEY: JSON.stringify(key1),
        SIGNING_KEY_NEXT: JSON.stringify(key2),
      },
    });
    let before;
    try {
      const { keys } = await (await deployed.fetch("/v1/jwks.json")).json();
      assert.deepEqual(
        keys.map((k) => k.kid),
        [kid1, kid2],
      );
      assert.ok(
        keys.every((k) => k.d === undefined),
        "never a private parameter",
      );
      before = await gatedAssertion(deployed, "before-rotation");
      assert.equal(decodeProtectedHeader(before).kid, kid1, "the next key never signs");
      assert.equal((await verifier.verify(before)).accountId, "before-rotation");
      assert.equal(fetches, 1);
    } finally {
      await deployed.dispose();
    }

    // Step 2: key 2 signs, key 1 is previous. The verifier's cached set already has key 2.
    deployed = await startWorker({
      vars: {
        ORIGIN_URL: origin.url,
        ISSUER: issuer,
        SIGNING_KEY: JSON.stringify(key2),
        SIGNING_KEY_PREVIOUS: JSON.stringify(public1),
      },
    });
    try {
      const after = await gatedAssertion(deployed, "after-rotation");
      assert.equal(decodeProtectedHeader(after).kid, kid2);
      assert.equal((await verifier.verify(after)).accountId, "after-rotation");
      assert.equal((await verifier.verify(before)).accountId, "before-rotation");
      assert.equal(fetches, 1, "no refetch was needed (jose would refuse one within its 30 s cooldown)");
    } finally {
      await deployed.dispose();
    }

    // Before any key signs, the next one can already be published.
    const first = await startWorker({ vars: { SIGNING_KEY_NEXT: JSON.stringify(key2) } });
    try {
      assert.deepEqual(
        (await (await first.fetch("/v1/jwks.json")).json()).keys.map((k) => k.kid),
        [kid2],
      );
    } finally {
      await first.dispose();
    }
  });

  test("an expired assertion is refused (short ASSERTION_TTL_SECS)", async () => {
    const origin = await startEchoOrigin();
    const worker = await startWorker({
      vars: {
        ORIGIN_URL: origin.url,
        ISSUER,
        SIGNING_KEY: JSON.stringify(await privateJwk("EdDSA")),
        ASSERTION_TTL_SECS: "1",
      },
    });
    try {
      const s = await worker.createSession("short-lived");
      const jwt = (await (await worker.fetch("/x", { headers: bearer(s.token) })).json()).headers[
        "x-session-assertion"
      ];
      const verifier = createAssertionVerifier({
        jwksUrl: new URL("/v1/jwks.json", worker.url),
        issuer: ISSUER,
        audience: origin.url,
        clockTolerance: 0,
      });
      await sleep(2100);
      await assert.rejects(verifier.verify(jwt), { code: "expired" });
    } finally {
      await worker.dispose();
      await origin.close();
    }
  });

  test("no key: an empty key set and no assertion; a bad key is invalid_config naming it", async () => {
    const origin = await startEchoOrigin();
    const none = await startWorker({ vars: { ORIGIN_URL: origin.url } });
    try {
      assert.deepEqual(await (await none.fetch("/v1/jwks.json")).json(), { keys: [] });
      const s = await none.createSession("unsigned");
      const seen = await (await none.fetch("/x", { headers: bearer(s.token) })).json();
      assert.equal(seen.headers["x-session-assertion"], undefined);
    } finally {
      await none.dispose();
    }
    const { d, ...publicOnly } = await privateJwk("EdDSA");
    for (const bad of [
      "not json",
      JSON.stringify(publicOnly),
      JSON.stringify({ kty: "RSA", n: "x", e: "AQAB", d: "x" }),
    ]) {
      const worker = await startWorker({ vars: { SIGNING_KEY: bad } });
      try {
        const body = await json(await worker.fetch("/v1/session"), 500);
        assert.equal(body.error, "invalid_config");
        assert.match(body.message, /SIGNING_KEY/);
        assert.ok(!body.message.includes(d), "never echoes the key");
      } finally {
        await worker.dispose();
      }
    }
    await origin.close();
  });

  test("a SIGNING_KEY whose public part is another key's is refused as invalid_config, before it signs anything", async (t) => {
    const origin = await startEchoOrigin();
    t.after(() => origin.close());
    for (const alg of ["EdDSA", "ES256"]) {
      const [mine, other] = [await privateJwk(alg), await privateJwk(alg)];
      const mismatched = { ...mine, x: other.x, ...(other.y ? { y: other.y } : {}) };
      const worker = await startWorker({
        vars: { ORIGIN_URL: origin.url, ISSUER, SIGNING_KEY: JSON.stringify(mismatched) },
      });
      try {
        for (const path of ["/v1/jwks.json", "/x"]) {
          const s = await worker.createSession("mismatched");
          const body = await json(await worker.fetch(path, { headers: bearer(s.token) }), 500);
          assert.equal(body.error, "invalid_config", `${alg} ${path}`);
          // WebCrypto's P-256 import checks the point against d already; its Ed25519 import
          // does not, and the probe signature is what refuses it.
          const expected =
            alg === "EdDSA"
              ? /^invalid configuration: SIGNING_KEY has a public part .* does not match/
              : /^invalid configuration: SIGNING_KEY /;
          assert.match(body.message, expected, `${alg}: ${body.message}`);
          assert.ok(!body.message.includes(mine.d) && !body.message.includes(other.x), "never echoes the key");
        }
        assert.equal(origin.received.length, 0, "nothing was forwarded with a key the origin cannot verify");
      } finally {
        await worker.dispose();
      }
    }
  });

  test("ISSUER is required with SIGNING_KEY; iss and X-Forwarded-Host never follow the Host a request names", async (t) => {
    const origin = await startEchoOrigin();
    t.after(() => origin.close());
    const key = JSON.stringify(await privateJwk("EdDSA"));
    const unnamed = await startWorker({ vars: { ORIGIN_URL: origin.url, SIGNING_KEY: key } });
    try {
      const body = await json(await unnamed.fetch("/v1/session"), 500);
      assert.equal(body.error, "invalid_config");
      assert.match(body.message, /^invalid configuration: ISSUER /);
      assert.match(body.message, /SIGNING_KEY/);
      assert.ok(!body.message.includes(JSON.parse(key).d), "never echoes the key");
    } finally {
      await unnamed.dispose();
    }

    // A client that reaches the worker under another name (a wildcard route, a second
    // custom domain) chooses the Host; neither the issuer nor the forwarded host follows.
    const asEvil = (worker, path, init) =>
      worker.mf.dispatchFetch(new URL(path, "http://evil.example"), { redirect: "manual", ...init });
    const cases = [
      [
        {
          ISSUER: "https://app.example.com:8443/auth",
          SIGNING_KEY: key,
          ASSERTION_AUDIENCES: "https://api.example.com",
        },
        "app.example.com:8443",
      ],
      [{ ISSUER: "https://app.example.com", SIGNING_KEY: key, PUBLIC_HOST: "www.example.com" }, "www.example.com"],
      [{ PUBLIC_HOST: "www.example.com" }, "www.example.com"],
    ];
    for (const [vars, host] of cases) {
      const worker = await startWorker({ vars: { ORIGIN_URL: origin.url, PUBLIC_PATHS: "/public/*", ...vars } });
      try {
        const s = await worker.createSession("hosted");
        const gated = await (await asEvil(worker, "/x", { headers: bearer(s.token) })).json();
        assert.equal(gated.headers["x-forwarded-host"], host, JSON.stringify(vars));
        const pub = await (await asEvil(worker, "/public/y")).json();
        assert.equal(pub.headers["x-forwarded-host"], host, "public paths too");
        if (vars.SIGNING_KEY) {
          const claims = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url"));
          assert.equal(claims(gated.headers["x-session-assertion"]).iss, vars.ISSUER);
        }
        if (vars.ASSERTION_AUDIENCES) {
          const page = await json(
            await asEvil(worker, "/v1/session/token?audience=https%3A%2F%2Fapi.example.com", {
              headers: bearer(s.token),
            }),
            200,
          );
          assert.equal(JSON.parse(Buffer.from(page.token.split(".")[1], "base64url")).iss, vars.ISSUER);
        }
      } finally {
        await worker.dispose();
      }
    }
    for (const bad of ["https://www.example.com", "www.example.com/path", "bad host", "www.example.com:port"]) {
      const worker = await startWorker({ vars: { ORIGIN_URL: origin.url, PUBLIC_HOST: bad } });
      try {
        const body = await json(await worker.fetch("/v1/session"), 500);
        assert.equal(body.error, "invalid_config");
        assert.match(body.message, /PUBLIC_HOST/);
      } finally {
        await worker.dispose();
      }
    }
  });

  test("GET /v1/session/token is off without ASSERTION_AUDIENCES, which may not list the forwarded audience", async (t) => {
    const origin = await startEchoOrigin();
    t.after(() => origin.close());
    const key = JSON.stringify(await privateJwk("EdDSA"));
    const off = await startWorker({ vars: { ORIGIN_URL: origin.url, ISSUER, SIGNING_KEY: key } });
    try {
      const s = await off.createSession("no-page-tokens");
      for (const query of ["", `?audience=${encodeURIComponent(origin.url)}`]) {
        const body = await json(await off.fetch(`/v1/session/token${query}`, { headers: bearer(s.token) }), 404);
        assert.equal(body.error, "not_found");
        assert.match(body.message, /ASSERTION_AUDIENCES/);
      }
      const seen = await (await off.fetch("/x", { headers: bearer(s.token) })).json();
      assert.equal(
        decodeProtectedHeader(seen.headers["x-session-assertion"]).typ,
        "gateway+jwt",
        "the gatekeeper still signs",
      );
    } finally {
      await off.dispose();
    }
    for (const vars of [
      { ORIGIN_URL: origin.url, ASSERTION_AUDIENCES: `https://api.example.com,${origin.url}` },
      {
        ORIGIN_URL: origin.url,
        ASSERTION_AUDIENCE: "https://gateway.example",
        ASSERTION_AUDIENCES: "https://gateway.example",
      },
    ]) {
      const worker = await startWorker({ vars: { ...vars, ISSUER, SIGNING_KEY: key } });
      try {
        const body = await json(await worker.fetch("/v1/session"), 500);
        assert.equal(body.error, "invalid_config");
        assert.match(body.message, /ASSERTION_AUDIENCES/);
      } finally {
        await worker.dispose();
      }
    }
  });

  test("claims: validate returns them, PATCH one or all rewrites them, invalid ones are refused with nothing stored", async () => {
    const origin = await startEchoOrigin();
    const worker = await startWorker({
      vars: { ORIGIN_URL: origin.url, ISSUER, SIGNING_KEY: JSON.stringify(await privateJwk("EdDSA")) },
    });
    const adminClient = createAdminClient({ baseUrl: worker.url.origin, adminKey: ADMIN_KEY });
    const verifier = createAssertionVerifier({
      jwksUrl: new URL("/v1/jwks.json", worker.url),
      issuer: ISSUER,
      audience: origin.url,
    });
    const assertionOf = async (token) =>
      verifier.verify(
        (await (await worker.fetch("/x", { headers: bearer(token) })).json()).headers["x-session-assertion"],
      );
    try {
      const a = await adminClient.createSession("claimed", { claims: { role: "viewer" }, userAgent: "sdk" });
      const b = await adminClient.createSession("claimed");
      assert.match(a.setCookie, /^__Host-session=est_/);
      assert.deepEqual((await worker.validate(a.token)).body.claims, { role: "viewer" });
      assert.deepEqual((await worker.validate(b.token)).body.claims, {});
      assert.deepEqual((await assertionOf(a.token)).claims, { role: "viewer" });

      const one = await adminClient.updateClaims("claimed", a.sessionId, { role: "editor" });
      assert.deepEqual(one.claims, { role: "editor" });
      assert.deepEqual((await worker.validate(a.token)).body.claims, { role: "editor" });
      assert.deepEqual((await assertionOf(a.token)).claims, { role: "editor" }, "a new assertion, not the reused one");

      assert.equal(await adminClient.updateClaims("claimed", null, { role: "admin", tenant: "acme" }), 2);
      for (const s of [a, b])
        assert.deepEqual((await worker.validate(s.token)).body.claims, { role: "admin", tenant: "acme" });
      const listed = await adminClient.listSessions("claimed");
      assert.ok(listed.every((s) => s.claims.role === "admin"));

      const deep = { a: { b: { c: { d: { e: { f: { g: { h: 1 } } } } } } } };
      for (const claims of [
        { blob: "x".repeat(2100) },
        { sub: "root" },
        { "9lives": 1 },
        ["not", "an", "object"],
        deep,
      ]) {
        await assert.rejects(
          adminClient.createSession("refused-claims", { claims }),
          (e) => e instanceof AdminApiError && e.code === "invalid_claims",
          JSON.stringify(claims).slice(0, 40),
        );
      }
      assert.deepEqual(await adminClient.listSessions("refused-claims"), [], "nothing stored");
      await assert.rejects(adminClient.updateClaims("claimed", a.sessionId, { iss: "x" }), { code: "invalid_claims" });
      assert.deepEqual(
        (await worker.validate(a.token)).body.claims,
        { role: "admin", tenant: "acme" },
        "a refused update changes nothing",
      );

      assert.equal(await adminClient.revokeAll("claimed", { except: a.sessionId }), 1);
      assert.equal(await adminClient.revokeSession("claimed", b.sessionId), false);
      assert.equal(await adminClient.revokeSession("claimed", a.sessionId), true);
      const updates = worker.logs.filter((l) => l.includes('"session_claims_updated"'));
      assert.equal(updates.length, 3, "one event per session changed");
    } finally {
      await worker.dispose();
      await origin.close();
    }
  });
});

describe("the admin client", () => {
  test("returns every field camelCase, the wire's values unchanged, and claims' own keys as they are", async (t) => {
    const worker = await startWorker();
    t.after(() => worker.dispose());
    const sdk = createAdminClient({ baseUrl: worker.url.origin, adminKey: ADMIN_KEY });
    const created = await sdk.createSession("camel", {
      userAgent: "sdk-test",
      label: "laptop",
      claims: { tenant_id: "acme" },
      aal: 2,
      amr: ["pwd", "otp"],
    });
    assert.deepEqual(Object.keys(created).sort(), [
      "aal",
      "absoluteExpiresAt",
      "accountId",
      "amr",
      "authenticatedAt",
      "claims",
      "createdAt",
      "deviceBound",
      "evicted",
      "expiresAt",
      "sessionId",
      "setCookie",
      "setCookies",
      "token",
    ]);
    const wire = (await worker.validate(created.token)).body;
    assert.deepEqual(
      [created.sessionId, created.accountId, created.expiresAt, created.absoluteExpiresAt, created.authenticatedAt],
      [wire.session_id, wire.account_id, wire.expires_at, wire.absolute_expires_at, wire.authenticated_at],
    );
    assert.deepEqual(created.claims, { tenant_id: "acme" }, "a claim's own name is the origin's, never renamed");

    const [listed] = await sdk.listSessions("camel");
    assert.deepEqual(
      [listed.sessionId, listed.userAgent, listed.label, listed.lastSeenAt, listed.createdAt],
      [created.sessionId, "sdk-test", "laptop", created.createdAt, created.createdAt],
    );
    assert.ok(
      Object.keys(listed).every((k) => !k.includes("_")),
      Object.keys(listed).join(" "),
    );
    const updated = await sdk.updateClaims("camel", created.sessionId, { tenant_id: "globex" });
    assert.deepEqual([updated.sessionId, updated.claims], [created.sessionId, { tenant_id: "globex" }]);
    const again = await sdk.reauthenticate("camel", created.sessionId, { aal: 3, amr: ["hwk"] });
    assert.deepEqual([again.accountId, again.sessionId, again.aal], ["camel", created.sessionId, 3]);
    assert.ok(
      Object.keys(again).every((k) => !k.includes("_")),
      Object.keys(again).join(" "),
    );
  });

  test("listAllSessions pages every account's sessions, deadlines as RFC 3339", async (t) => {
    const worker = await startWorker();
    t.after(() => worker.dispose());
    const sdk = createAdminClient({ baseUrl: worker.url.origin, adminKey: ADMIN_KEY });
    const made = [];
    for (const id of ["fleet-a", "fleet-b", "fleet-b"]) made.push(await sdk.createSession(id));
    const seen = [];
    let page = await sdk.listAllSessions({ limit: 2 });
    assert.equal(page.sessions.length, 2);
    assert.equal(typeof page.cursor, "string", "more to come");
    seen.push(...page.sessions);
    page = await sdk.listAllSessions({ limit: 2, cursor: page.cursor });
    seen.push(...page.sessions);
    assert.equal(page.cursor, undefined, "the last page has no cursor");
    const expected = made.map((s) => ({
      accountId: s.accountId,
      sessionId: s.sessionId,
      expiresAt: s.expiresAt,
      absoluteExpiresAt: s.absoluteExpiresAt,
    }));
    const bySession = (a, b) => a.sessionId.localeCompare(b.sessionId);
    assert.deepEqual(seen.sort(bySession), expected.sort(bySession));
    await assert.rejects(sdk.listAllSessions({ cursor: "not a cursor!" }), {
      name: "AdminApiError",
      status: 400,
      code: "invalid_cursor",
    });
    const locked = createAdminClient({ baseUrl: worker.url.origin, adminKey: "wrong-key-0123456789abcdef-0123456789" });
    await assert.rejects(locked.listAllSessions(), { status: 401, code: "invalid_admin_key" });
  });
});

describe("account ids in admin paths", () => {
  test("the SDK sends @ and : as they are, and the worker takes exactly %40 and %3A for them", async (t) => {
    const worker = await startWorker();
    t.after(() => worker.dispose());
    const paths = [];
    const recordingFetch = (url, init) => {
      paths.push(new URL(url).pathname);
      return fetch(url, init);
    };
    const sdk = createAdminClient({ baseUrl: worker.url.origin, adminKey: ADMIN_KEY, fetch: recordingFetch });
    for (const id of ["alice@example.com", "tenant:42"]) {
      const created = await sdk.createSession(id, { claims: { role: "viewer" } });
      assert.equal(created.accountId, id);
      assert.deepEqual(
        (await sdk.listSessions(id)).map((s) => s.sessionId),
        [created.sessionId],
      );
      assert.deepEqual((await sdk.updateClaims(id, created.sessionId, { role: "editor" })).claims, { role: "editor" });
      assert.equal(await sdk.updateClaims(id, null, { role: "admin" }), 1);
      const again = await sdk.reauthenticate(id, created.sessionId, { aal: 2, amr: ["pwd", "otp"] });
      assert.equal(again.aal, 2);
      assert.equal(await sdk.revokeAll(id, { except: created.sessionId }), 0);
      assert.equal(await sdk.revokeSession(id, created.sessionId), true);
      assert.deepEqual(await sdk.listSessions(id), []);
    }
    assert.ok(paths.includes("/v1/admin/accounts/alice@example.com/sessions"), paths.join(" "));
    assert.ok(paths.includes("/v1/admin/accounts/tenant:42/sessions"), paths.join(" "));

    // An OpenAPI client encodes them: the same account either way.
    const create = (path) => worker.fetch(path, { method: "POST", headers: admin, body: "{}" });
    const encoded = await json(await create("/v1/admin/accounts/bob%40example.com/sessions"), 201);
    assert.equal(encoded.account_id, "bob@example.com");
    const listed = await json(
      await worker.fetch("/v1/admin/accounts/bob@example.com/sessions", { headers: admin }),
      200,
    );
    assert.deepEqual(
      listed.sessions.map((s) => s.session_id),
      [encoded.session_id],
    );
    assert.equal((await json(await create("/v1/admin/accounts/tenant%3A7/sessions"), 201)).account_id, "tenant:7");
    assert.equal((await json(await create("/v1/admin/accounts/tenant%3a8/sessions"), 201)).account_id, "tenant:8");
    const revoke = await worker.fetch(`/v1/admin/accounts/bob%40example.com/sessions/${encoded.session_id}`, {
      method: "DELETE",
      headers: admin,
    });
    assert.equal(revoke.status, 204);

    // Every other escape is still refused, and nothing is decoded twice.
    for (const raw of ["bob%2Fx", "%41lice", "bob%2540example.com", "bob%20x", "a%2E%2Eb", "bob%4", "bob%"]) {
      const body = await json(await create(`/v1/admin/accounts/${raw}/sessions`), 400);
      assert.equal(body.error, "invalid_account_id", raw);
    }
  });
});
