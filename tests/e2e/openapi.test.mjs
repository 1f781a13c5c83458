// openapi.json and the worker's router must describe the same API: every documented
// operation is answered, and every route the worker answers is documented.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startWorker } from "./harness.mjs";

const doc = JSON.parse(readFileSync(new URL("../../openapi.json", import.meta.url), "utf8"));
const cargoVersion = readFileSync(new URL("../../Cargo.toml", import.meta.url), "utf8").match(/^version = "(.+)"$/m)[1];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

let worker;
before(async () => {
  worker = await startWorker();
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

test("GET /v1/openapi.json serves the document, at this build's version", async () => {
  const res = await worker.fetch("/v1/openapi.json");
  assert.equal(res.status, 200);
  const served = await res.json();
  assert.deepEqual(served, doc);
  assert.equal(served.openapi, "3.1.0");
  assert.equal(served.info.version, cargoVersion);
});

/** Whether `method path` is an operation of the document (parameters match one segment). */
function isDocumented(method, path) {
  return Object.entries(doc.paths).some(([template, item]) => {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+").replaceAll(".", "\\.")}$`);
    return pattern.test(path) && Boolean(item[method.toLowerCase()]);
  });
}

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
