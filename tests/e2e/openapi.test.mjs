// openapi.json and the worker's router must describe the same API: every documented
// operation is answered, and every route the worker answers is documented. Then each
// disagreement a contract check once found (issue 20) is pinned against the running
// worker: the answer's status, error code, headers and body are the ones the document
// lists for that operation.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startWorker, ADMIN_KEY } from "./harness.mjs";
import {
  doc,
  violations,
  listedCodes,
  answerProblems,
  findOperation,
  webhookProblems,
} from "./support/openapi-conformance.mjs";

const cargoVersion = readFileSync(new URL("../../Cargo.toml", import.meta.url), "utf8").match(/^version = "(.+)"$/m)[1];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

let worker;
const APP = "https://app.example";
before(async () => {
  // Device binding on, so its endpoints answer as documented.
  const dbsc = { DEVICE_BOUND_SESSIONS: "offer", DEVICE_BINDING_SECRET: Buffer.alloc(32, 1).toString("base64") };
  worker = await startWorker({ vars: { ALLOWED_ORIGINS: APP, ...dbsc } });
});
after(async () => {
  await worker?.dispose();
});

/** A concrete path for a template: sample values for its parameters. */
const concrete = (template) =>
  template.replace("{account_id}", "openapi-account").replace("{session_id}", `sid_${"a".repeat(32)}`);

/** Whether the router has a route for this method and path (anything but 404/405 `not_found`/`method_not_allowed`). */
async function answered(method, path) {
  const res = await worker.fetch(path, {
    method,
    headers: { "Content-Type": "application/json" },
    body: method === "POST" ? "{}" : undefined,
  });
  const text = await res.text();
  if (res.status === 405) return false;
  if (res.status === 404) {
    const code = JSON.parse(text).error;
    return code !== "not_found"; // a documented 404 (session_not_found) is an answer
  }
  return true;
}

test("GET /v1/openapi.json serves the document, at this build's version, with the caching it documents", async () => {
  const { body: served, headers } = await conforms("openapi", await worker.fetch("/v1/openapi.json"), 200);
  assert.deepEqual(served, doc);
  assert.equal(headers.get("cache-control"), "public, max-age=300");
  assert.equal(headers.get("access-control-allow-origin"), "*");
  assert.equal(served.openapi, "3.1.0");
  assert.equal(served.info.version, cargoVersion);
});

/** Whether `method path` is an operation of the document (parameters match one segment). */
const isDocumented = (method, path) => Boolean(findOperation(method, path));

test("servers: where the worker is routed, and `npm run dev`'s address", () => {
  const urls = doc.servers.map((s) => s.url.replace(/\{(\w+)\}/g, (_, name) => s.variables[name].default));
  for (const [i, url] of urls.entries()) {
    assert.equal(new URL(url).pathname, "/", `${url}: the paths begin with /v1/ themselves`);
    assert.ok(doc.servers[i].description, url);
  }
  assert.ok(urls.some((u) => u.startsWith("https://")));
  const devAddress = readFileSync(new URL("../../scripts/dev.sh", import.meta.url), "utf8").match(
    /http:\/\/127\.0\.0\.1:\d+/,
  )[0];
  assert.ok(urls.includes(devAddress), `no server for npm run dev at ${devAddress}`);
});

/** Every operation of `paths` and `webhooks`, as [where, operation]. */
const everyOperation = () =>
  ["paths", "webhooks"].flatMap((section) =>
    Object.entries(doc[section]).flatMap(([name, item]) =>
      Object.entries(item)
        .filter(([method]) => method !== "parameters")
        .map(([method, op]) => [`${section} ${method.toUpperCase()} ${name}`, op]),
    ),
  );

test("every operation and webhook has a tag the document declares, and every declared tag is used", () => {
  const declared = doc.tags.map((t) => t.name);
  assert.equal(new Set(declared).size, declared.length, "a tag declared twice");
  for (const tag of doc.tags) assert.ok(tag.description, `tag ${tag.name} has no description`);
  const untagged = [];
  const used = new Set();
  for (const [where, op] of everyOperation()) {
    if (!op.tags?.length || !op.tags.every((t) => declared.includes(t))) untagged.push(`${where}: ${op.tags}`);
    for (const t of op.tags ?? []) used.add(t);
  }
  assert.deepEqual(untagged, []);
  assert.deepEqual(
    declared.filter((t) => !used.has(t)),
    [],
    "declared but unused",
  );
  // The admin API is one tag, so a reader finds what needs ADMIN_KEY in one place.
  for (const [where, op] of everyOperation()) {
    if (where.includes(" /v1/admin/")) assert.deepEqual(op.tags, ["Admin"], where);
    else if (where.includes(" /v1/")) assert.ok(!op.tags.includes("Admin"), where);
  }
});

// The delivered event types, read from the core's EventType::delivered (src/core/event.rs):
// its arms are the only `EventType::X => "a.b"` lines. A host test
// (tests/core_events_doc.rs) checks each webhook's reasons against the core's enums.
const eventSource = readFileSync(new URL("../../src/core/event.rs", import.meta.url), "utf8");
const deliveredTypes = [...eventSource.matchAll(/EventType::\w+ => "([a-z_]+\.[a-z_]+)"/g)].map((m) => m[1]);

test("webhooks: one per event type the worker delivers, each with its payload and the Standard Webhooks headers", () => {
  assert.ok(deliveredTypes.length >= 8, `read ${deliveredTypes.length} types from src/core/event.rs`);
  assert.deepEqual(Object.keys(doc.webhooks).sort(), [...deliveredTypes].sort());
  const sample = {
    id: `evt_${"0a".repeat(16)}`,
    occurred_at: "2026-11-22T08:00:43Z",
    account_id: "alice@example.com",
    session_id: `sid_${"c3".repeat(16)}`,
    data: {},
  };
  for (const type of deliveredTypes) {
    const { post } = doc.webhooks[type];
    const headers = post.parameters.map((p) => resolve(p)).filter((p) => p.in === "header");
    assert.deepEqual(
      headers.map((h) => [h.name, h.required]),
      [
        ["webhook-id", true],
        ["webhook-timestamp", true],
        ["webhook-signature", true],
      ],
      type,
    );
    assert.ok(post.responses["2XX"] && post.responses.default, `${type}: what acknowledges, and what is retried`);
    const schema = post.requestBody.content["application/json"].schema;
    const reasons = resolve(schema).properties.reason.enum;
    assert.ok(reasons.length >= 1, type);
    // `session.anomaly` carries which signals moved (docs/theft-signals.md); the rest carry nothing.
    const dataFor = (reason) => (type === "session.anomaly" ? { signals: ["country"], action: reason } : {});
    for (const reason of reasons)
      assert.deepEqual(violations(schema, { ...sample, type, reason, data: dataFor(reason) }), [], type);
    if (type === "session.anomaly") {
      assert.ok(violations(schema, { ...sample, type, reason: "log" }).length > 0, "an anomaly says what moved");
      const leaky = { ...dataFor("log"), ip: "203.0.113.9" };
      assert.ok(violations(schema, { ...sample, type, reason: "log", data: leaky }).length > 0, "and nothing else");
    }
    // Another type's body, an unknown reason, a token-shaped extra: the schema tells them apart.
    const other = deliveredTypes.find((t) => t !== type);
    assert.ok(
      violations(schema, { ...sample, type: other, reason: reasons[0] }).length > 0,
      `${type} accepts ${other}`,
    );
    assert.ok(violations(schema, { ...sample, type, reason: "nope" }).length > 0, `${type} accepts any reason`);
    assert.ok(violations(schema, { ...sample, type, reason: reasons[0], id: "evt_1" }).length > 0, type);
  }
  // The check the webhook receiver in events.test.mjs runs on every delivery.
  const body = JSON.stringify({ ...sample, type: "session.revoked", reason: "revoke_all" });
  const signature = `v1,${Buffer.alloc(32, 7).toString("base64")}`;
  const headers = {
    "content-type": "application/json",
    "webhook-id": sample.id,
    "webhook-timestamp": "1795334443",
    "webhook-signature": `${signature} ${signature}`,
  };
  assert.deepEqual(webhookProblems(headers, body), []);
  const without = (name) => Object.fromEntries(Object.entries(headers).filter(([k]) => k !== name));
  assert.match(webhookProblems(without("webhook-signature"), body).join(), /webhook-signature is missing/);
  assert.match(webhookProblems({ ...headers, "webhook-timestamp": "soon" }, body).join(), /webhook-timestamp/);
  assert.match(webhookProblems({ ...headers, "webhook-signature": "v1,abc" }, body).join(), /webhook-signature/);
  assert.match(webhookProblems(headers, `${body.slice(0, -1)},"token":"est_x"}`).join(), /does not name: \/token/);
  assert.match(webhookProblems(headers, body.replace("session.revoked", "session.deleted")).join(), /no webhook/);
});

test("the answer check itself: it names what breaks the document", async () => {
  const s = await created("openapi-checker");
  const res = await worker.fetch("/v1/session", { headers: bearer(s.token) });
  const answer = (status, body, type = "application/json", url = "http://w/v1/session") => ({
    method: "GET",
    url,
    status,
    headers: new Headers(type ? { "content-type": type } : {}),
    text: typeof body === "string" ? body : JSON.stringify(body),
  });
  const body = await res.json();
  assert.deepEqual(answerProblems(answer(200, body)), []);
  const noClaims = { ...body };
  delete noClaims.claims;
  assert.match(answerProblems(answer(200, noClaims)).join(), /must have required property 'claims'/);
  assert.match(answerProblems(answer(200, { ...body, aal: 7 })).join(), /\/aal must be <= 3/);
  assert.match(
    answerProblems(answer(200, body, "text/plain")).join(),
    /Content-Type text\/plain, not application\/json/,
  );
  assert.match(answerProblems(answer(418, body)).join(), /status 418 is not documented/);
  assert.match(answerProblems(answer(200, "")).join(), /no body where the document declares application\/json/);
  const wrongCode = answer(401, { error: "invalid_cursor", message: "x" });
  wrongCode.headers.set("www-authenticate", 'Bearer realm="session", error="invalid_cursor"');
  assert.match(answerProblems(wrongCode).join(), /error invalid_cursor is not among the codes this response lists/);
  const noBody = { ...answer(204, "x", "text/plain", "http://w/v1/session"), method: "DELETE" };
  assert.match(answerProblems(noBody).join(), /a body \(text\/plain\) where the document declares none/);
  assert.match(
    answerProblems(answer(404, { error: "not_found" }, undefined, "http://w/v1/nowhere")).join(),
    /not an Error/,
  );
  wrongCode.headers.delete("www-authenticate");
  assert.match(answerProblems(wrongCode).join(), /the required header WWW-Authenticate is missing/);
});

test("every documented operation is answered, and nothing undocumented is", async () => {
  // Probe every method on every documented path, plus near misses of each path.
  const templates = Object.keys(doc.paths);
  const probes = new Set(templates);
  for (const t of templates) {
    probes.add(`${t}/extra`);
    probes.add(t.replace(/\/[^/]+$/, ""));
  }
  for (const extra of [
    "/v1",
    "/v1/",
    "/v1/admin",
    "/v1/admin/accounts",
    "/v1/admin/accounts/{account_id}",
    "/v1/session/other",
    "/v1/debug",
    "/v1/admin/sessions/{session_id}",
  ])
    probes.add(extra);

  const mismatches = [];
  for (const template of probes) {
    for (const method of METHODS) {
      const path = concrete(template);
      const documented = isDocumented(method, path);
      const isAnswered = await answered(method, path);
      if (documented !== isAnswered)
        mismatches.push(`${method} ${path}: documented=${documented} answered=${isAnswered}`);
    }
  }
  assert.deepEqual(mismatches, []);
});

// The error codes the worker can send are checked against this document by a host test
// (tests/core_error_codes.rs), from the core's ErrorCode enum rather than from source text.

// ---------------------------------------------------------------------------------------
// Answers against the document.

const admin = { Authorization: `Bearer ${ADMIN_KEY}`, "Content-Type": "application/json" };
const bearer = (token) => ({ Authorization: `Bearer ${token}` });
const cookie = (token) => ({ Cookie: `__Host-session=${token}` });

const operations = new Map();
for (const [template, item] of Object.entries(doc.paths)) {
  for (const [method, op] of Object.entries(item)) {
    if (method !== "parameters") operations.set(op.operationId, { template, method, op, item });
  }
}
const operation = (id) => {
  const found = operations.get(id);
  assert.ok(found, `no operation ${id} in openapi.json`);
  return found;
};

/** What a `$ref` in this document points to. */
function resolve(node) {
  if (!node?.$ref) return node;
  assert.ok(node.$ref.startsWith("#/"), `only local refs: ${node.$ref}`);
  return node.$ref
    .slice(2)
    .split("/")
    .reduce((at, key) => at[key.replaceAll("~1", "/").replaceAll("~0", "~")], doc);
}

/**
 * Checks an answer against operation `id`'s documented response for its status:
 * every required header is there and each documented header's value fits its schema;
 * Set-Cookie, WWW-Authenticate and Retry-After appear only where documented;
 * Cache-Control is no-store unless the response documents another; a JSON body fits
 * its schema and an error's code is one the response lists. Returns the parsed body.
 */
async function conforms(id, res, expectedStatus) {
  const { op, method, template } = operation(id);
  const where = `${method.toUpperCase()} ${template} ${res.status}`;
  const text = await res.text();
  if (expectedStatus !== undefined) assert.equal(res.status, expectedStatus, `${where}: ${text}`);
  const documented = op.responses[String(res.status)];
  assert.ok(documented, `${where} is not a documented response: ${text}`);
  const headers = Object.fromEntries(
    Object.entries(documented.headers ?? {}).map(([k, h]) => [k.toLowerCase(), resolve(h)]),
  );
  for (const [name, header] of Object.entries(headers)) {
    const value = res.headers.get(name);
    if (header.required) assert.ok(value !== null, `${where}: documented header ${name} is missing`);
    // A header is text; an integer header (style simple) is its decimal digits.
    const typed = [header.schema.type].flat().includes("integer") && /^-?\d+$/.test(value) ? Number(value) : value;
    if (value !== null) assert.deepEqual(violations(header.schema, typed), [], `${where}: header ${name}: ${value}`);
  }
  for (const name of ["set-cookie", "www-authenticate", "retry-after"]) {
    if (res.headers.get(name) !== null)
      assert.ok(headers[name], `${where} sends ${name}, which the document does not list`);
  }
  if (!headers["cache-control"]) assert.equal(res.headers.get("cache-control"), "no-store", `${where}: Cache-Control`);
  const content = documented.content?.[Object.keys(documented.content ?? {})[0]];
  if (!content) {
    assert.equal(text, "", `${where}: a documented empty answer has a body`);
    return { status: res.status, body: undefined, headers: res.headers };
  }
  const body = JSON.parse(text);
  assert.deepEqual(violations(content.schema, body), [], `${where}: body ${text.slice(0, 300)}`);
  if (res.status >= 400) {
    assert.ok(
      listedCodes(documented).includes(body.error),
      `${where}: ${body.error} is not among ${listedCodes(documented)}`,
    );
  }
  return { status: res.status, body, headers: res.headers };
}

const create = (account, body) =>
  worker.fetch(`/v1/admin/accounts/${account}/sessions`, {
    method: "POST",
    headers: admin,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
const created = async (account, body = {}) => (await conforms("createSession", await create(account, body), 201)).body;
const requestSchema = (id) => resolve(operation(id).op.requestBody.content["application/json"].schema);

test("every listed error code is a code of the Error schema, and every error response lists one", () => {
  const codes = new Set(resolve({ $ref: "#/components/schemas/Error" }).properties.error.enum);
  for (const [id, { op }] of operations) {
    for (const [status, response] of Object.entries(op.responses)) {
      if (Number(status) < 400) continue;
      const listed = listedCodes(response);
      assert.ok(listed.length > 0, `${id} ${status} lists no error code`);
      for (const code of listed) assert.ok(codes.has(code), `${id} ${status}: ${code} is not an error code`);
    }
  }
});

test("DELETE /v1/session needs no credential: the document's security is optional, and the worker answers 204", async () => {
  const { op } = operation("logout");
  assert.ok(
    op.security.some((requirement) => Object.keys(requirement).length === 0),
    "logout's security has no empty requirement",
  );
  const { headers } = await conforms("logout", await worker.fetch("/v1/session", { method: "DELETE" }), 204);
  assert.match(headers.get("set-cookie"), /^__Host-session=; Max-Age=0;/);
  // Every other session operation does need one.
  for (const [id, { op: other }] of operations) {
    if (id === "logout" || !other.security?.length) continue;
    assert.ok(
      other.security.every((r) => Object.keys(r).length > 0),
      `${id} has an optional security requirement`,
    );
  }
});

test("every 401 documents WWW-Authenticate, and the worker sends it on each", async () => {
  const calls = [];
  for (const [id, { template, method, op }] of operations) {
    if (!op.responses["401"]) continue;
    const header = resolve(op.responses["401"].headers?.["WWW-Authenticate"]);
    assert.ok(header?.required, `${id}: its 401 does not list WWW-Authenticate as required`);
    const body = ["post", "patch"].includes(method) ? "{}" : undefined;
    // No credential at all: a session operation answers missing_token, an admin one invalid_admin_key.
    calls.push([
      id,
      worker.fetch(concrete(template), {
        method: method.toUpperCase(),
        headers: { "Content-Type": "application/json" },
        body,
      }),
    ]);
  }
  assert.ok(calls.length >= 15, `only ${calls.length} operations document a 401`);
  for (const [id, pending] of calls) {
    // The token route checks the session before its audience, like every session route.
    const { headers, body } = await conforms(id, await pending, 401);
    assert.equal(headers.get("www-authenticate"), `Bearer realm="session", error="${body.error}"`);
  }
});

test("rotate: a cookie caller gets a Session without token, a bearer caller an IssuedToken, each as documented", async () => {
  const viaCookie = await created("openapi-rotate");
  const res = await worker.fetch("/v1/session/rotate", { method: "POST", headers: cookie(viaCookie.token) });
  const { body, headers } = await conforms("rotateSession", res, 200);
  assert.equal(body.token, undefined);
  assert.equal(body.session_id, viaCookie.session_id);
  assert.match(headers.get("set-cookie"), /^__Host-session=est_[A-Za-z0-9_-]{43};/);

  const viaBearer = await created("openapi-rotate");
  const rotated = await conforms(
    "rotateSession",
    await worker.fetch("/v1/session/rotate", { method: "POST", headers: bearer(viaBearer.token) }),
    200,
  );
  assert.match(rotated.body.token, /^est_/);
  assert.equal(rotated.headers.get("set-cookie"), null, "a bearer caller gets no cookie");
  // The cookie body is a Session and not an IssuedToken, which is what makes oneOf hold.
  assert.ok(violations({ $ref: "#/components/schemas/IssuedToken" }, body).length > 0);
});

test("reauthenticate and revoke-all `all` send the Set-Cookie the document lists; `others` sends none", async () => {
  const s = await created("openapi-cookies");
  const reauth = await worker.fetch(`/v1/admin/accounts/openapi-cookies/sessions/${s.session_id}/reauthenticate`, {
    method: "POST",
    headers: admin,
    body: JSON.stringify({ aal: 2, amr: ["pwd", "otp"] }),
  });
  const { body: fresh } = await conforms("reauthenticateSession", reauth, 200);
  const others = await conforms(
    "revokeAllSessions",
    await worker.fetch("/v1/sessions?scope=others", { method: "DELETE", headers: bearer(fresh.token) }),
    200,
  );
  assert.equal(others.headers.get("set-cookie"), null);
  const all = await conforms(
    "revokeAllSessions",
    await worker.fetch("/v1/sessions", { method: "DELETE", headers: bearer(fresh.token) }),
    200,
  );
  assert.match(all.headers.get("set-cookie"), /^__Host-session=; Max-Age=0;/);
});

test("create's 400 lists invalid_authentication and the admin revoke-all's lists invalid_scope", async () => {
  await conforms("createSession", await create("openapi-codes", { aal: 4 }), 400);
  await conforms("createSession", await create("openapi-codes", { amr: ["PWD"] }), 400);
  const revokeAll = await worker.fetch("/v1/admin/accounts/openapi-codes/sessions?except=not-a-session", {
    method: "DELETE",
    headers: admin,
  });
  assert.equal((await conforms("revokeAccountSessions", revokeAll, 400)).body.error, "invalid_scope");
});

test("reauthenticate's amr carries create's pattern, and the worker applies it", async () => {
  const branch = (schema) => resolve(schema.anyOf.find((s) => s.type !== "null"));
  const reauthAmr = branch(requestSchema("reauthenticateSession").properties.amr);
  const createAmr = branch(resolve(requestSchema("createSession")).properties.amr);
  assert.deepEqual(reauthAmr, createAmr);
  assert.equal(reauthAmr.items.pattern, "^[a-z0-9_-]{1,32}$");
  const s = await created("openapi-amr");
  const reauth = (amr) =>
    worker.fetch(`/v1/admin/accounts/openapi-amr/sessions/${s.session_id}/reauthenticate`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ amr }),
    });
  for (const bad of [["PWD"], ["a".repeat(33)], [""]]) {
    assert.ok(violations(reauthAmr, bad).length > 0, `the document accepts ${bad}`);
    assert.equal(
      (await conforms("reauthenticateSession", await reauth(bad), 400)).body.error,
      "invalid_authentication",
    );
  }
  await conforms("reauthenticateSession", await reauth(["a".repeat(32), "hwk"]), 200);
});

test("max_age has the worker's maximum, 315360000", async () => {
  const { schema } = operation("validateSession").op.parameters.find((p) => p.name === "max_age");
  assert.equal(schema.maximum, 315360000);
  const s = await created("openapi-max-age");
  const at = (n) => worker.fetch(`/v1/session?max_age=${n}`, { headers: bearer(s.token) });
  await conforms("validateSession", await at(schema.maximum), 200);
  assert.equal((await conforms("validateSession", await at(schema.maximum + 1), 400)).body.error, "invalid_freshness");
});

test("cursor has the worker's length and alphabet; a real cursor fits them", async () => {
  const { schema } = operation("listAllSessions").op.parameters.find((p) => p.name === "cursor");
  assert.deepEqual([schema.minLength, schema.maxLength, schema.pattern], [1, 1024, "^[A-Za-z0-9\\-_=+/.]+$"]);
  await created("openapi-cursor");
  await created("openapi-cursor");
  const page = await conforms(
    "listAllSessions",
    await worker.fetch("/v1/admin/sessions?limit=1", { headers: admin }),
    200,
  );
  assert.ok(page.body.cursor, "two sessions, a page of one: there is a next page");
  assert.deepEqual(violations(schema, page.body.cursor), []);
  await conforms(
    "listAllSessions",
    await worker.fetch(`/v1/admin/sessions?limit=1&cursor=${encodeURIComponent(page.body.cursor)}`, { headers: admin }),
    200,
  );
  for (const bad of ["a".repeat(1025), "a b", "a%b", "ä"]) {
    assert.ok(violations(schema, bad).length > 0, `the document accepts the cursor ${bad}`);
    const res = await worker.fetch(`/v1/admin/sessions?cursor=${encodeURIComponent(bad)}`, { headers: admin });
    assert.equal((await conforms("listAllSessions", res, 400)).body.error, "invalid_cursor");
  }
});

test("claims' propertyNames are the worker's claim-name rule and reserved names", async () => {
  const claims = resolve({ $ref: "#/components/schemas/Claims" });
  const reserved = claims.propertyNames.not.enum;
  assert.ok(reserved.length >= 16);
  const refused = [...reserved, "a".repeat(65), "1abc", "_abc", "a b", "ä", "a/b", ""];
  for (const name of refused) {
    assert.ok(
      violations(claims, { [name]: 1 }).length > 0,
      `the document accepts the claim name ${JSON.stringify(name)}`,
    );
    assert.equal(
      (await conforms("createSession", await create("openapi-claims", { claims: { [name]: 1 } }), 400)).body.error,
      "invalid_claims",
      name,
    );
  }
  // Names the rule lets through, registered JWT names this worker does not set among them.
  const accepted = Object.fromEntries(
    [
      "a".repeat(64),
      "A",
      "x.y:z-w_v",
      "Sub",
      "ISS",
      "auth_time2",
      "scope",
      "client_id",
      "typ",
      "kid",
      "at_hash",
      "email",
      "roles",
      "tenant",
    ].map((n) => [n, 1]),
  );
  assert.deepEqual(violations(claims, accepted), []);
  assert.deepEqual((await created("openapi-claims", { claims: accepted })).claims, accepted);
});

test("metadata limits are bytes, and control and bidi characters are refused, as the descriptions say", async () => {
  const props = resolve(requestSchema("createSession")).properties;
  for (const [field, limit] of [
    ["ip", 64],
    ["user_agent", 512],
    ["label", 128],
  ]) {
    assert.equal(props[field].maxLength, limit);
    assert.match(props[field].description, new RegExp(`^At most ${limit} bytes of UTF-8`));
    assert.match(props[field].description, /control characters/);
    // "é" is two bytes: half the limit fits, one more is refused though it is far below maxLength.
    await created("openapi-meta", { [field]: "é".repeat(limit / 2) });
    assert.equal(
      (await conforms("createSession", await create("openapi-meta", { [field]: "é".repeat(limit / 2 + 1) }), 400)).body
        .error,
      "invalid_metadata",
    );
  }
  const refused = [
    "\u0000",
    "\u0007",
    "\u007f",
    "\u009f",
    "\u00ad",
    "\u061c",
    "\u180e",
    "\u200b",
    "\u200f",
    "\u2028",
    "\u202e",
    "\u2060",
    "\u2066",
    "\u206f",
    "\ufeff",
    "\ufff9",
    "\ufffb",
  ];
  for (const c of refused) {
    const label = `a${c}b`;
    assert.ok(violations(props.label, label).length > 0, `the document accepts U+${c.codePointAt(0).toString(16)}`);
    assert.equal(
      (await conforms("createSession", await create("openapi-meta", { label }), 400)).body.error,
      "invalid_metadata",
    );
  }
  // Next to the refused ranges, and far from them.
  for (const label of ["Café ☕ 東京", "a\u00a0\u00acb", "a\u200a\u2027\u202f\u2070b", "a\u061b\ufffcb"]) {
    assert.deepEqual(violations(props.label, label), []);
    await created("openapi-meta", { label });
  }
});

test("null optional fields are taken as absent, as the request schemas allow; 60.0 is an integer", async () => {
  const body = {
    ip: null,
    user_agent: null,
    label: null,
    idle_ttl_secs: null,
    absolute_ttl_secs: null,
    authenticated_at: null,
    aal: null,
    amr: null,
    claims: null,
  };
  assert.deepEqual(Object.keys(body).sort(), Object.keys(resolve(requestSchema("createSession")).properties).sort());
  assert.deepEqual(violations(requestSchema("createSession"), body), []);
  const s = await created("openapi-null", body);
  assert.deepEqual([s.aal, s.amr, s.claims], [1, [], {}]);

  const reauthBody = { aal: null, amr: null };
  assert.deepEqual(violations(requestSchema("reauthenticateSession"), reauthBody), []);
  await conforms(
    "reauthenticateSession",
    await worker.fetch(`/v1/admin/accounts/openapi-null/sessions/${s.session_id}/reauthenticate`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify(reauthBody),
    }),
    200,
  );

  // JSON.stringify would write 600.0 as 600, so the body is written by hand.
  for (const field of ["idle_ttl_secs", "absolute_ttl_secs", "aal"]) {
    assert.ok([resolve(requestSchema("createSession")).properties[field].type].flat().includes("integer"), field);
  }
  const whole = await created("openapi-null", '{"idle_ttl_secs": 600.0, "absolute_ttl_secs": 3600.0, "aal": 2.0}');
  assert.equal(whole.aal, 2);
  assert.equal(Date.parse(whole.absolute_expires_at) - Date.parse(whole.created_at), 3600_000);
  // The claims PATCHes take no null: there, claims are the whole point.
  const patch = await worker.fetch(`/v1/admin/accounts/openapi-null/sessions/${s.session_id}`, {
    method: "PATCH",
    headers: admin,
    body: '{"claims": null}',
  });
  assert.equal((await conforms("updateSessionClaims", patch, 400)).body.error, "invalid_claims");
});

test("a method a path does not document answers 405 with Allow listing the documented ones, no-store", async () => {
  for (const [template, item] of Object.entries(doc.paths)) {
    const documented = METHODS.filter((m) => item[m.toLowerCase()]);
    const path = concrete(template);
    // OPTIONS has no preflight on the admin API and the public documents.
    const extra =
      path.startsWith("/v1/admin/") ||
      ["/v1/health", "/v1/health/ready", "/v1/jwks.json", "/v1/openapi.json"].includes(path)
        ? ["OPTIONS"]
        : [];
    for (const method of [...METHODS.filter((m) => !documented.includes(m)), "QUERY", "PROPFIND", ...extra]) {
      const res = await worker.fetch(path, { method });
      const where = `${method} ${template}`;
      assert.equal(res.status, 405, where);
      assert.equal((await res.json()).error, "method_not_allowed", where);
      assert.deepEqual(res.headers.get("allow")?.split(", ").sort(), [...documented].sort(), where);
      assert.equal(res.headers.get("cache-control"), "no-store", where);
    }
  }
});

test("CORS preflights on the session paths are no-store, allowed or not", async () => {
  const sessionPaths = Object.keys(doc.paths).filter(
    (t) =>
      !t.startsWith("/v1/admin/") &&
      // The browser calls the DBSC endpoints itself: they answer no CORS at all.
      !t.startsWith("/v1/dbsc/") &&
      !["/v1/health", "/v1/health/ready", "/v1/jwks.json", "/v1/openapi.json"].includes(t),
  );
  assert.ok(sessionPaths.length >= 6);
  for (const template of sessionPaths) {
    const preflight = (origin) =>
      worker.fetch(concrete(template), {
        method: "OPTIONS",
        headers: { Origin: origin, "Access-Control-Request-Method": "POST" },
      });
    const ok = await preflight(APP);
    assert.equal(ok.status, 204, template);
    assert.equal(ok.headers.get("access-control-allow-origin"), APP);
    assert.equal(ok.headers.get("cache-control"), "no-store", template);
    const refused = await preflight("https://elsewhere.example");
    assert.equal(refused.status, 403, template);
    assert.equal((await refused.json()).error, "origin_not_allowed");
    assert.equal(refused.headers.get("cache-control"), "no-store", template);
  }
});

test("GET /v1/jwks.json is cached as its response documents", async () => {
  const { headers } = await conforms("jwks", await worker.fetch("/v1/jwks.json"), 200);
  assert.equal(headers.get("cache-control"), "public, max-age=300");
});

test("revoke one and revoke all answer the 429 they document", async () => {
  const limited = await startWorker({ ratelimits: { SESSION_LIMITER: { simple: { limit: 1, period: 60 } } } });
  try {
    const viaLimited = async (id, path, token, status) =>
      conforms(id, await limited.fetch(path, { method: "DELETE", headers: bearer(token) }), status);
    const a = await limited.createSession("openapi-limited");
    await viaLimited("revokeSession", `/v1/sessions/sid_${"0".repeat(32)}`, a.token, 404);
    const { headers } = await viaLimited("revokeSession", `/v1/sessions/sid_${"0".repeat(32)}`, a.token, 429);
    assert.equal(headers.get("retry-after"), "60");
    const b = await limited.createSession("openapi-limited");
    await viaLimited("revokeAllSessions", "/v1/sessions?scope=others", b.token, 200);
    await viaLimited("revokeAllSessions", "/v1/sessions?scope=others", b.token, 429);
  } finally {
    await limited.dispose();
  }
});

test("GET /v1/health/ready answers the 200 and the 503 it documents", async () => {
  const { body } = await conforms("readiness", await worker.fetch("/v1/health/ready"), 200);
  assert.equal(body.status, "ready");
  const broken = await startWorker({ withoutBindings: ["SESSIONS"] });
  try {
    const { body: notReady } = await conforms("readiness", await broken.fetch("/v1/health/ready"), 503);
    assert.equal(notReady.error, "invalid_config");
  } finally {
    await broken.dispose();
  }
});
