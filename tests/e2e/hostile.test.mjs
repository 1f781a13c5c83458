// A few hundred generated hostile requests, some sent as raw bytes over TCP so that
// nothing in the client cleans them up first. None may produce a 5xx, every error must
// be JSON, and every stored session must be exactly as it was.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { startWorker, ADMIN_KEY } from "./harness.mjs";
import { adminJson } from "./support/requests.mjs";

/** A small deterministic PRNG (mulberry32), so a failure reproduces. */
function prng(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Parses a complete HTTP/1.1 response out of `buffer`, or returns null if more is due. */
function parseResponse(buffer) {
  const text = buffer.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const head = text.slice(0, end);
  const status = Number(head.split(" ")[1]);
  const headers = Object.fromEntries(
    head
      .split("\r\n")
      .slice(1)
      .map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
  );
  let body = text.slice(end + 4);
  if (headers["content-length"] !== undefined) {
    if (body.length < Number(headers["content-length"])) return null;
  } else if (/chunked/i.test(headers["transfer-encoding"] ?? "")) {
    if (!body.endsWith("0\r\n\r\n")) return null;
    body = body.replace(/(^|\r\n)[0-9a-f]+\r\n/gi, "");
  }
  return { status, headers, body };
}

/** Sends raw bytes and resolves with the first complete response. */
function rawRequest(url, bytes) {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let received = Buffer.alloc(0);
    socket.setTimeout(10_000, () => socket.destroy(new Error("raw request timed out")));
    socket.on("data", (c) => {
      received = Buffer.concat([received, c]);
      const response = parseResponse(received);
      if (response) {
        socket.destroy();
        resolve(response);
      }
    });
    socket.on("error", reject);
    socket.on("close", () =>
      reject(new Error(`connection closed before a full response: ${received.toString("latin1").slice(0, 200)}`)),
    );
    socket.write(bytes);
  });
}

let worker, victims, snapshot;

before(async () => {
  worker = await startWorker({ vars: { ALLOWED_ORIGINS: "https://app.example" } });
  victims = [];
  for (const account of ["victim-a", "victim-b", "victim-b"])
    victims.push(await worker.createSession(account, { label: "keep" }));
  // Each first use by a client takes the baseline (docs/theft-signals.md), a write.
  for (const v of victims) assert.equal((await worker.validate(v.token)).status, 200);
  snapshot = JSON.stringify(await worker.dumpKv());
});

after(async () => {
  await worker?.dispose();
});

function mutations(token, rand) {
  const body = token.slice(4);
  const pick = (s) => s[Math.floor(rand() * s.length)];
  // Bytes fetch refuses to put in a header (NUL, CR, LF, DEL) go in rawRequests().
  const alphabet = "ABCxyz019-_+/=.%é\u00ff ";
  const out = [
    token.slice(0, -1),
    `${token}A`,
    token.toUpperCase(),
    `est_${body.split("").reverse().join("")}`,
    token.replace("_", "-"),
    `est_${"A".repeat(42)}B`,
    "",
    "est_",
    "%65st_" + body,
  ];
  for (let i = 0; i < 20; i++) {
    const chars = token.split("");
    const n = 1 + Math.floor(rand() * 3);
    for (let j = 0; j < n; j++) chars[Math.floor(rand() * chars.length)] = pick(alphabet);
    const mutated = chars.join("");
    if (mutated !== token) out.push(mutated);
  }
  return out;
}

function generatedRequests() {
  const rand = prng(20261122);
  const token = victims[0].token;
  const requests = [];
  const add = (path, init = {}) => requests.push({ path, init });

  // Malformed cookies and bearer values.
  for (const bad of mutations(token, rand)) {
    add("/v1/session", { headers: { Cookie: `__Host-session=${bad}` } });
    add("/v1/session", { headers: { Authorization: `Bearer ${bad}` } });
    add("/v1/session/refresh", { method: "POST", headers: { Authorization: `Bearer ${bad}` } });
    add("/v1/session", { method: "DELETE", headers: { Authorization: `Bearer ${bad}` } });
    add("/v1/sessions", { headers: { Authorization: `Bearer ${bad}` } });
  }
  for (let i = 0; i < 20; i++) {
    const len = Math.floor(rand() * 200);
    let junk = "";
    for (let j = 0; j < len; j++) {
      const code = 32 + Math.floor(rand() * 223);
      junk += String.fromCharCode(code === 127 ? 126 : code);
    }
    add("/v1/session", { headers: { Cookie: junk } });
  }
  // Header size extremes.
  for (const size of [0, 1, 4096, 16 * 1024, 16 * 1024 + 1, 32 * 1024, 64 * 1024]) {
    add("/v1/session", { headers: { Cookie: `__Host-session=${"A".repeat(size)}` } });
    add("/v1/session", { headers: { Authorization: `Bearer ${"A".repeat(size)}` } });
  }
  // Body size extremes and invalid UTF-8 on the admin API.
  // (Larger bodies go in rawRequests(): the worker answers 413 from Content-Length
  // without reading them, and fetch reports the early close as a reset.)
  for (const size of [16 * 1024 + 1]) {
    add("/v1/admin/accounts/victim-a/sessions", {
      method: "POST",
      headers: adminJson,
      body: `{"label":"${"x".repeat(size)}"}`,
    });
  }
  for (const bytes of [[0xff, 0xfe, 0xfd], [0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d], [0xed, 0xa0, 0x80], [0x00]]) {
    add("/v1/admin/accounts/victim-a/sessions", { method: "POST", headers: adminJson, body: new Uint8Array(bytes) });
  }
  // Method confusion.
  for (const method of ["HEAD", "PATCH", "PUT", "POST"])
    add("/v1/session", { method, headers: { Authorization: `Bearer ${token}x` } });
  for (const method of ["PATCH", "PUT", "GET"]) add("/v1/session/refresh", { method });
  for (const method of ["GET", "PUT", "PATCH"])
    add("/v1/admin/accounts/victim-a/sessions/sid_x", { method, headers: adminJson });
  // Path tricks.
  for (const path of [
    "/v1//session",
    "//v1/session",
    "/v1/session/",
    "/v1/session/..",
    "/v1/./session",
    "/v1/%73ession",
    "/v1/session%2Frefresh",
    "/v1/session/refresh/..",
    "/V1/SESSION",
    "/v1/session;x=1",
    "/v1/sessions/..%2F..%2Fadmin",
    "/v1/admin/accounts/%2e%2e/sessions",
    "/v1/admin/accounts/victim-a%00/sessions",
    "/v1/admin/accounts/victim-a/sessions/%2e%2e",
    "/v1/session?consistency=strong%00",
    "/v1/session?consistency=",
    "/v1/sessions?scope=others&scope=all",
    "/v1/health/../session",
    "/v1/admin/sessions?limit=1e3",
    "/v1/admin/sessions?cursor=%ff%fe",
  ]) {
    add(path, { headers: { Authorization: `Bearer ${token}x` } });
    add(path, { method: "DELETE", headers: { Authorization: `Bearer ${token}x` } });
  }
  // Foreign origins and preflights.
  for (const origin of ["https://evil.example", "null", "https://app.example.evil", "HTTPS://APP.EXAMPLE", ""]) {
    add("/v1/session", { method: "OPTIONS", headers: { Origin: origin, "Access-Control-Request-Method": "DELETE" } });
    add("/v1/session", { method: "DELETE", headers: { Origin: origin, Cookie: `__Host-session=${token}x` } });
  }
  return requests;
}

/** Raw requests that fetch would refuse to send or would normalise. */
function rawRequests(host) {
  const token = victims[0].token;
  const lines = (method, path, headers, body = "") =>
    Buffer.concat([
      Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n`, "latin1"),
      Buffer.from(headers.map((h) => `${h}\r\n`).join(""), "latin1"),
      Buffer.from(body ? `Content-Length: ${Buffer.byteLength(body, "latin1")}\r\n\r\n${body}` : "\r\n", "latin1"),
    ]);
  return [
    lines("TRACE", "/v1/session", [`Authorization: Bearer ${token}x`]),
    lines("GET", "/v1/session", [`Cookie: __Host-session=${token}`, `Cookie: __Host-session=${token}x`]),
    lines("GET", "/v1/session", [`Authorization: Bearer ${token}x`, `Authorization: Bearer ${token}y`]),
    lines("GET", "/v1/session", ["Cookie: __Host-session=est_\xff\xfe\xfd"]),
    lines("GET", "/v1/session", ["Cookie: \x01\x02\x03=\x7f"]),
    lines("GET", "/v1//session", [`Authorization: Bearer ${token}x`]),
    lines("GET", "/v1/session/..", []),
    lines("GET", "/v1/%2e%2e/v1/session", []),
    lines("DELETE", "/v1/session", [
      `Cookie: __Host-session=${token}x`,
      "Origin: https://evil.example",
      "Origin: https://app.example",
    ]),
    lines(
      "POST",
      "/v1/admin/accounts/victim-a/sessions",
      [`Authorization: Bearer ${ADMIN_KEY}`, "Content-Type: application/json"],
      '{"label":"\xc3\x28"}',
    ),
    lines(
      "POST",
      "/v1/admin/accounts/victim-a/sessions",
      [`Authorization: Bearer ${ADMIN_KEY}`, "Content-Type: application/json", "Content-Type: text/plain"],
      "{}x",
    ),
    // A real 100 KB body, and one that claims 1 GiB: both refused from the header alone.
    lines(
      "POST",
      "/v1/admin/accounts/victim-a/sessions",
      [`Authorization: Bearer ${ADMIN_KEY}`, "Content-Type: application/json"],
      `{"label":"${"x".repeat(100 * 1024)}"}`,
    ),
    // Claims a 1 GiB body: refused from the header alone, before any of it is read.
    Buffer.from(
      `POST /v1/admin/accounts/victim-a/sessions HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\nAuthorization: Bearer ${ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n{"label":"`,
      "latin1",
    ),
    lines("GET", "/v1/session", ["Cookie: __Host-session=est_\x00\x7f"]),
    lines("GET", "/v1/session", [`Authorization: Bearer\t${token}x`]),
  ];
}

test("hundreds of hostile requests: no 5xx, JSON errors, nothing stored changes", async () => {
  const requests = generatedRequests();
  const failures = [];
  let count = 0;
  for (const { path, init } of requests) {
    let res;
    const t0 = Date.now();
    try {
      res = await worker.mf.dispatchFetch(`${worker.url.origin}${path}`, { redirect: "manual", ...init });
    } catch (e) {
      failures.push(`${init.method ?? "GET"} ${path.slice(0, 80)} threw ${e.cause?.code ?? e.message}`);
      continue;
    }
    try {
      await worker.checkAnswer(init.method ?? "GET", `${worker.url.origin}${path}`, res);
    } catch (e) {
      failures.push(e.message);
    }
    const text = await res.text();
    if (process.env.HOSTILE_DEBUG && Date.now() - t0 > 300)
      console.log("slow", Date.now() - t0, "ms", init.method ?? "GET", path.slice(0, 60));
    count++;
    if (res.status >= 500)
      failures.push(`${init.method ?? "GET"} ${path.slice(0, 80)} -> ${res.status} ${text.slice(0, 120)}`);
    if (res.status >= 400 && init.method !== "HEAD") {
      try {
        const body = JSON.parse(text);
        if (typeof body.error !== "string") failures.push(`${path}: error body without code: ${text.slice(0, 80)}`);
      } catch {
        failures.push(`${init.method ?? "GET"} ${path.slice(0, 80)} -> ${res.status} non-JSON: ${text.slice(0, 80)}`);
      }
    }
  }
  for (const bytes of rawRequests(worker.url.host)) {
    const t0 = Date.now();
    const res = await rawRequest(worker.url, bytes);
    if (process.env.HOSTILE_DEBUG)
      console.log("raw", Date.now() - t0, "ms", res.status, bytes.toString("latin1").split("\r\n")[0]);
    count++;
    if (!(res.status >= 200 && res.status < 500))
      failures.push(`raw ${bytes.toString("latin1").split("\r\n")[0]} -> ${res.status} ${res.body.slice(0, 120)}`);
  }
  assert.ok(count >= 200, `sent ${count} requests`);
  assert.deepEqual(failures, []);

  // Every stored session is byte-for-byte what it was, and still works.
  assert.equal(JSON.stringify(await worker.dumpKv()), snapshot);
  for (const v of victims) assert.equal((await worker.validate(v.token)).status, 200);
});
