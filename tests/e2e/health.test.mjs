import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startWorker } from "./harness.mjs";

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

test("unknown paths get a JSON 404", async () => {
  const res = await worker.fetch("/v1/nope");
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), { error: "not_found", message: "no such endpoint" });
});
