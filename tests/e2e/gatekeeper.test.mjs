// Gatekeeper mode end to end: the worker in workerd in front of a real HTTP origin on
// 127.0.0.1 that echoes what it receives.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, unusedPort } from "./harness.mjs";
import { startEchoOrigin } from "./support/origin.mjs";

/** The echo, with cookies and a header of the origin's own, and paths that answer otherwise. */
function respond(seen, res) {
  if (seen.url.startsWith("/hang")) return; // never answers
  const status = seen.url.startsWith("/teapot") ? 418 : 200;
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Set-Cookie": ["origin_pref=1; Path=/", "origin_other=2; Path=/"],
    "X-Origin": "echo",
    ...(seen.url.startsWith("/moved") ? { Location: "/elsewhere" } : {}),
  });
  res.end(JSON.stringify(seen));
}

const HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

describe("gatekeeper", () => {
  let origin, worker;
  before(async () => {
    origin = await startEchoOrigin({ respond });
    worker = await startWorker({
      vars: {
        ORIGIN_URL: origin.url,
        LOGIN_URL: "https://site.example/login",
        PUBLIC_PATHS: "/login,/assets/*,/favicon.ico",
        ORIGIN_TIMEOUT_MS: "1500",
      },
    });
  });
  after(async () => {
    await worker?.dispose();
    await origin?.close();
  });

  const cookie = (token) => `theme=dark; __Host-session=${token}; lang=en`;

  test("a public path is forwarded without a session, and never with the token", async () => {
    const s = await worker.createSession("gk-public");
    const res = await worker.fetch("/assets/app.js?v=3", {
      headers: {
        Cookie: `theme=dark; __Host-session=${s.token}`,
        "X-Session-Account": "forged",
        X_Session_Id: "forged",
      },
    });
    assert.equal(res.status, 200);
    const seen = await res.json();
    assert.equal(seen.url, "/assets/app.js?v=3");
    assert.equal(seen.headers.cookie, "theme=dark", "the session cookie is not passed on");
    assert.equal(seen.headers["x-session-account"], undefined, "identity headers are stripped even on public paths");
    assert.equal(seen.headers.x_session_id, undefined, "so are their underscore spellings");
    const bearer = await (await worker.fetch("/login", { headers: { Authorization: `Bearer ${s.token}` } })).json();
    assert.equal(bearer.headers.authorization, undefined);
  });

  test("path tricks do not sneak a private path through a public prefix", async () => {
    const before = origin.received.length;
    for (const path of [
      "/assets/..%2Fadmin",
      "/assets/..;/admin",
      "/assets/%252e%252e/admin",
      "/assets/x%5C..%5Cadmin",
    ]) {
      const res = await worker.fetch(path, { headers: { Accept: "application/json" } });
      assert.equal(res.status, 401, path);
    }
    assert.equal(origin.received.length, before, "the origin saw nothing");
  });

  test("methods pass through as they are, and gatekeeper-only headers are the gatekeeper's", async () => {
    const s = await worker.createSession("gk-dav");
    const res = await worker.fetch("/files/report", {
      method: "PROPFIND",
      headers: {
        Cookie: cookie(s.token),
        Depth: "1",
        Forwarded: "for=6.6.6.6;host=evil.example",
        "X-Forwarded-Host": "evil.example",
      },
      body: "<propfind/>",
    });
    const seen = await res.json();
    assert.equal(seen.method, "PROPFIND");
    assert.equal(Buffer.from(seen.body, "base64").toString(), "<propfind/>");
    assert.equal(seen.headers.depth, "1");
    assert.equal(seen.headers.forwarded, undefined);
    assert.equal(seen.headers["x-forwarded-host"], worker.url.host, "host with its port");
    assert.equal(seen.headers["x-session-account"], "gk-dav");
    // The API does not read unknown methods as GET.
    const api = await worker.fetch("/v1/session", {
      method: "PROPFIND",
      headers: { Authorization: `Bearer ${s.token}` },
    });
    assert.equal(api.status, 405);
  });

  test("a valid cookie is forwarded with the session's identity, and the cookie stripped", async () => {
    const s = await worker.createSession("gk-alice");
    const res = await worker.fetch("/account?tab=2", {
      headers: { Cookie: cookie(s.token), Accept: HTML, "X-Custom": "kept" },
    });
    assert.equal(res.status, 200);
    const seen = await res.json();
    assert.equal(seen.method, "GET");
    assert.equal(seen.url, "/account?tab=2");
    assert.equal(seen.headers["x-session-account"], "gk-alice");
    assert.equal(seen.headers["x-session-id"], s.session_id);
    assert.equal(seen.headers["x-session-expires"], s.expires_at);
    assert.equal(seen.headers["x-custom"], "kept");
    assert.equal(seen.headers.cookie, "theme=dark; lang=en");
    assert.ok(!JSON.stringify(seen).includes(s.token.slice(4)), "the token never reaches the origin");
  });

  test("a bearer token works too, and forged identity headers never reach the origin", async () => {
    const s = await worker.createSession("gk-bob");
    const res = await worker.fetch("/api/data", {
      headers: {
        Authorization: `Bearer ${s.token}`,
        "X-Session-Account": "admin",
        "x-session-id": "sid_forged",
        "X-SESSION-EXTRA": "1",
      },
    });
    const seen = await res.json();
    assert.equal(seen.headers["x-session-account"], "gk-bob");
    assert.equal(seen.headers["x-session-id"], s.session_id);
    assert.equal(seen.headers["x-session-extra"], undefined);
    assert.equal(seen.headers.authorization, undefined, "the bearer token is not passed on");
    assert.ok(!JSON.stringify(seen).includes(s.token.slice(4)));
    // The cookie and a matching bearer together: neither reaches the origin.
    const both = await (
      await worker.fetch("/api/data", { headers: { Cookie: cookie(s.token), Authorization: `Bearer ${s.token}` } })
    ).json();
    assert.equal(both.headers.authorization, undefined);
    assert.equal(both.headers.cookie, "theme=dark; lang=en");
    // A non-session Authorization header on a cookie-authenticated request is the
    // origin's business and passes through.
    const own = await worker.fetch("/api/data", {
      headers: { Cookie: cookie(s.token), Authorization: "Basic b3JpZ2luOmF1dGg=" },
    });
    assert.equal((await own.json()).headers.authorization, "Basic b3JpZ2luOmF1dGg=");
  });

  test("cookie-authenticated writes from a foreign origin never reach the origin", async () => {
    const s = await worker.createSession("gk-csrf");
    const before = origin.received.length;
    const res = await worker.fetch("/transfer", {
      method: "POST",
      headers: {
        Cookie: cookie(s.token),
        Origin: "https://evil.example",
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: "to=mallory&amount=1000",
    });
    assert.equal(res.status, 403);
    assert.equal((await res.json()).error, "origin_not_allowed");
    assert.equal(origin.received.length, before);
    const same = await worker.fetch("/transfer", {
      method: "POST",
      headers: { Cookie: cookie(s.token), Origin: worker.url.origin },
      body: "to=friend",
    });
    assert.equal(same.status, 200, "same-origin writes pass");
  });

  test("the origin's response comes back intact", async () => {
    const s = await worker.createSession("gk-carol");
    const res = await worker.fetch("/teapot", { headers: { Cookie: cookie(s.token) } });
    assert.equal(res.status, 418);
    assert.equal(res.headers.get("x-origin"), "echo");
    assert.deepEqual(res.headers.getSetCookie(), ["origin_pref=1; Path=/", "origin_other=2; Path=/"]);
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    const moved = await worker.fetch("/moved", { headers: { Cookie: cookie(s.token) } });
    assert.equal(moved.status, 200);
    assert.equal(moved.headers.get("location"), "/elsewhere", "origin redirects are passed back, not followed");
  });

  test("a POST body is forwarded byte for byte", async () => {
    const s = await worker.createSession("gk-dave");
    const body = new Uint8Array(70_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7 + 3) & 0xff;
    const res = await worker.fetch("/upload?x=1", {
      method: "POST",
      headers: { Cookie: cookie(s.token), "Content-Type": "application/octet-stream" },
      body,
    });
    const seen = await res.json();
    assert.equal(seen.method, "POST");
    assert.equal(seen.url, "/upload?x=1");
    assert.equal(seen.headers["content-type"], "application/octet-stream");
    assert.deepEqual(Buffer.from(seen.body, "base64"), Buffer.from(body));
    for (const method of ["PUT", "PATCH", "DELETE"]) {
      const r = await worker.fetch("/thing", { method, headers: { Cookie: cookie(s.token) }, body: "payload" });
      const echoed = await r.json();
      assert.equal(echoed.method, method);
      assert.equal(Buffer.from(echoed.body, "base64").toString(), "payload");
    }
  });

  test("no session: 302 to the login page for HTML, 401 JSON otherwise; the origin sees nothing", async () => {
    const before = origin.received.length;
    const nav = await worker.fetch("/account/settings?tab=security", { headers: { Accept: HTML } });
    assert.equal(nav.status, 302);
    assert.equal(
      nav.headers.get("location"),
      "https://site.example/login?return_to=%2Faccount%2Fsettings%3Ftab%3Dsecurity",
    );
    const api = await worker.fetch("/api/data", { headers: { Accept: "application/json" } });
    assert.equal(api.status, 401);
    assert.deepEqual(await api.json(), {
      error: "missing_token",
      message: "no session cookie or bearer token was sent",
    });
    const post = await worker.fetch("/form", { method: "POST", headers: { Accept: HTML }, body: "a=1" });
    assert.equal(post.status, 401, "only GET navigations are redirected");
    assert.equal(origin.received.length, before);
  });

  test("revoked and expired sessions are refused like missing ones", async () => {
    const s = await worker.createSession("gk-erin");
    await worker.fetch("/v1/session", { method: "DELETE", headers: { Authorization: `Bearer ${s.token}` } });
    const nav = await worker.fetch("/home", { headers: { Cookie: cookie(s.token), Accept: HTML } });
    assert.equal(nav.status, 302);
    const api = await worker.fetch("/home", { headers: { Cookie: cookie(s.token) } });
    assert.equal(api.status, 401);
    assert.equal((await api.json()).error, "session_not_found");

    const short = await worker.createSession("gk-erin", { idle_ttl_secs: 1 });
    await new Promise((r) => setTimeout(r, 1500));
    const expired = await worker.fetch("/home", { headers: { Cookie: cookie(short.token) } });
    assert.equal(expired.status, 401);
    assert.ok(["session_expired", "session_not_found"].includes((await expired.json()).error));
  });

  test("return_to never names another host", async () => {
    const attacks = [
      ["//evil.example", "/evil.example"],
      ["//evil.example/path?q=1", "/evil.example/path?q=1"],
      ["/\\evil.example", "/evil.example"],
      ["/%2F%2Fevil.example", "/%2F%2Fevil.example"],
      ["/%5Cevil.example", "/%5Cevil.example"],
      ["/..//evil.example", "/evil.example"],
    ];
    for (const [path, expected] of attacks) {
      const res = await worker.mf.dispatchFetch(`${worker.url.origin}${path}`, {
        headers: { Accept: HTML },
        redirect: "manual",
      });
      assert.equal(res.status, 302, path);
      const location = new URL(res.headers.get("location"));
      assert.equal(location.origin, "https://site.example");
      const returnTo = location.searchParams.get("return_to");
      assert.equal(returnTo, expected, path);
      // However the login page resolves it, it stays on the login page's own origin.
      assert.equal(new URL(returnTo, "https://site.example").origin, "https://site.example", path);
    }
  });

  test("the /v1/ API is not gated", async () => {
    const res = await worker.fetch("/v1/health");
    assert.equal((await res.json()).status, "ok");
  });
});

describe("gatekeeper without a reachable origin", () => {
  test("an origin that refuses connections gives 502 JSON", async () => {
    const worker = await startWorker({
      vars: { ORIGIN_URL: `http://127.0.0.1:${await unusedPort()}`, PUBLIC_PATHS: "/*" },
    });
    try {
      const res = await worker.fetch("/anything");
      assert.equal(res.status, 502);
      assert.equal((await res.json()).error, "origin_unreachable");
    } finally {
      await worker.dispose();
    }
  });

  test("an origin that never answers gives 502 JSON after the timeout, not a hang", async () => {
    const origin = await startEchoOrigin({ respond });
    const worker = await startWorker({
      vars: { ORIGIN_URL: origin.url, PUBLIC_PATHS: "/*", ORIGIN_TIMEOUT_MS: "800" },
    });
    try {
      const started = Date.now();
      const res = await worker.fetch("/hang");
      const elapsed = Date.now() - started;
      assert.equal(res.status, 502);
      assert.equal((await res.json()).error, "origin_timeout");
      assert.ok(elapsed < 5000, `answered in ${elapsed} ms`);
    } finally {
      await worker.dispose();
      await origin.close();
    }
  });
});

describe("another Worker calling through a service binding", () => {
  test("a bound worker validates the incoming cookie with GET /v1/session", async () => {
    const caller = {
      name: "site",
      modules: true,
      compatibilityDate: "2026-04-20",
      serviceBindings: { AUTH: "edge-sessions" },
      script: `
        export default {
          async fetch(request, env) {
            const check = await env.AUTH.fetch("https://auth.internal/v1/session", {
              headers: { Cookie: request.headers.get("Cookie") ?? "" },
            });
            if (check.status !== 200) return new Response("please log in", { status: 401 });
            const session = await check.json();
            return new Response("hello " + session.account_id);
          },
        };`,
    };
    const worker = await startWorker({ extraWorkers: [caller] });
    try {
      const s = await worker.createSession("bound-user");
      const site = await worker.mf.getWorker("site");
      const ok = await site.fetch("https://site.example/", { headers: { Cookie: `__Host-session=${s.token}` } });
      assert.equal(await ok.text(), "hello bound-user");
      const anon = await site.fetch("https://site.example/");
      assert.equal(anon.status, 401);
    } finally {
      await worker.dispose();
    }
  });
});
