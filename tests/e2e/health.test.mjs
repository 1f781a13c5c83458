import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startWorker, ADMIN_KEY } from "./harness.mjs";

const cargoVersion = readFileSync(new URL("../../Cargo.toml", import.meta.url), "utf8").match(/^version = "(.+)"$/m)[1];

let worker;
before(async () => {
  worker = await startWorker();
});
after(async () => {
  await worker?.dispose();
});

test("GET /v1/health answers JSON with the build's version", async () => {
  const res = await worker.fetch("/v1/health");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /^application\/json/);
  assert.deepEqual(await res.json(), { status: "ok", name: "edge-sessions", version: cargoVersion });
});

test("the health answer, Cargo.toml, package.json, openapi.json and the changelog agree on the version", async () => {
  const read = (f) => readFileSync(new URL(`../../${f}`, import.meta.url), "utf8");
  const { version } = await (await worker.fetch("/v1/health")).json();
  assert.equal(version, cargoVersion);
  assert.equal(JSON.parse(read("package.json")).version, version, "package.json");
  assert.equal(JSON.parse(read("openapi.json")).info.version, version, "openapi.json");
  const unreleased = read("CHANGELOG.md").split("## [Unreleased]")[1].split("\n## ")[0];
  assert.match(unreleased, new RegExp(`say \`${version.replaceAll(".", "\\.")}\``), "CHANGELOG.md, Unreleased");
});

test("unknown paths get a JSON 404", async () => {
  const res = await worker.fetch("/v1/nope");
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), { error: "not_found", message: "no such endpoint" });
});

// --- readiness: GET /v1/health/ready ---

const WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/** GET /v1/health/ready on a worker started with `options`; the worker is disposed after. */
async function readiness(options) {
  const w = await startWorker(options);
  try {
    const res = await w.fetch("/v1/health/ready");
    assert.match(res.headers.get("content-type"), /^application\/json/);
    assert.equal(res.headers.get("cache-control"), "no-store");
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text), kv: w.kv && (await w.dumpKv()) };
  } finally {
    await w.dispose();
  }
}

const statuses = (body) => Object.fromEntries(body.checks.map((c) => [c.name, c.status]));
const detailOf = (body, name) => body.checks.find((c) => c.name === name)?.detail;

test("readiness: a good configuration answers 200 with every check it made, and stores nothing", async () => {
  const { status, body, kv } = await readiness({});
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.status, "ready");
  assert.equal(body.version, cargoVersion);
  assert.equal(body.error, undefined);
  assert.deepEqual(statuses(body), {
    configuration: "ok",
    ADMIN_KEY: "ok",
    SESSIONS: "ok",
    ACCOUNTS: "ok",
    EVENTS: "ok",
    SESSION_LIMITER: "ok",
  });
  assert.deepEqual(kv, [], "the KV probe is a read of a key no session uses");
});

test("readiness: a missing KV binding and an invalid variable answer 503 naming both", async () => {
  const { status, body } = await readiness({ withoutBindings: ["SESSIONS"], vars: { IDLE_TTL_SECS: "soon" } });
  assert.equal(status, 503, JSON.stringify(body));
  assert.equal(body.status, "not_ready");
  assert.equal(body.error, "invalid_config");
  assert.equal(statuses(body).SESSIONS, "failed");
  assert.equal(statuses(body).configuration, "failed");
  assert.match(detailOf(body, "configuration"), /IDLE_TTL_SECS/);
  assert.match(detailOf(body, "SESSIONS"), /no KV namespace is bound/);
  assert.match(body.message, /^not ready: .*configuration: .*IDLE_TTL_SECS.*SESSIONS: /);
});

test("readiness: a missing Durable Object binding answers 503 naming it", async () => {
  const { status, body } = await readiness({ withoutBindings: ["ACCOUNTS"] });
  assert.equal(status, 503, JSON.stringify(body));
  assert.equal(body.error, "invalid_config");
  assert.equal(statuses(body).ACCOUNTS, "failed");
  assert.match(detailOf(body, "ACCOUNTS"), /no Durable Object namespace is bound/);
  assert.equal(statuses(body).SESSIONS, "ok");
});

test("readiness: an invalid secret is named, and no secret's value is in the body", async () => {
  const signingKey = JSON.stringify({
    kty: "OKP",
    crv: "Ed25519",
    d: "c2VjcmV0LXNpZ25pbmcta2V5LW1hdGVyaWFs",
    x: "AAAA",
  });
  const { status, body, text } = await readiness({
    vars: {
      WEBHOOK_URL: "https://hooks.example/in",
      WEBHOOK_SECRET,
      ISSUER: "https://issuer.example",
      SIGNING_KEY: signingKey,
    },
  });
  assert.equal(status, 503, text);
  assert.equal(statuses(body).configuration, "failed");
  assert.match(detailOf(body, "configuration"), /SIGNING_KEY/);
  for (const secret of [ADMIN_KEY, WEBHOOK_SECRET, WEBHOOK_SECRET.slice(6), "c2VjcmV0LXNpZ25pbmcta2V5LW1hdGVyaWFs"]) {
    assert.ok(!text.includes(secret), `the body shows a secret: ${text}`);
  }
});

test("readiness: no admin key, or one too short, is not ready", async () => {
  const unset = await readiness({ adminKey: null });
  assert.equal(unset.status, 503);
  assert.equal(statuses(unset.body).ADMIN_KEY, "failed");
  assert.match(detailOf(unset.body, "ADMIN_KEY"), /not set/);
  const short = await readiness({ adminKey: "short-admin-key" });
  assert.equal(short.status, 503);
  assert.match(detailOf(short.body, "ADMIN_KEY"), /at least 32 characters/);
  assert.ok(!short.text.includes("short-admin-key"));
});

test("readiness: optional bindings may be absent, unless webhooks need the queue", async () => {
  const lean = await readiness({ withoutBindings: ["EVENTS", "SESSION_LIMITER"] });
  assert.equal(lean.status, 200, lean.text);
  assert.equal(statuses(lean.body).EVENTS, "absent");
  assert.equal(statuses(lean.body).SESSION_LIMITER, "absent");
  const webhooks = await readiness({
    withoutBindings: ["EVENTS"],
    vars: { WEBHOOK_URL: "https://hooks.example/in", WEBHOOK_SECRET },
  });
  assert.equal(webhooks.status, 503, webhooks.text);
  assert.equal(statuses(webhooks.body).EVENTS, "failed");
  assert.match(detailOf(webhooks.body, "EVENTS"), /WEBHOOK_URL is set/);
  assert.ok(!webhooks.text.includes(WEBHOOK_SECRET.slice(6)));
});

test("readiness answers GET only", async () => {
  const res = await worker.fetch("/v1/health/ready", { method: "POST" });
  assert.equal(res.status, 405);
  assert.equal(res.headers.get("allow"), "GET");
});
