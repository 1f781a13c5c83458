// The entry shim (scripts/shim/worker-shim.js) in workerd, around a stand-in for
// wasm-bindgen's glue whose calls can trap like a panicking wasm module does. What is
// checked is the recovery worker-build's own shim provides: after a trap, the next call
// resets the wasm state first, and a Durable Object re-creates its wasm object.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";

const root = new URL("../../", import.meta.url);
const dir = new URL("build/shim-test/", root);

// Stands in for build/index.js's glue: the same exports the shim uses.
const GLUE = `
const state = { criticalError: false, instanceId: 0 };
let resets = 0;
let trapNextConstructor = false;
export function __worker_init_state() { return state; }
export function __wbg_reset_state() { resets++; }
export async function fetch(request, env) {
  const path = new URL(request.url).pathname;
  if (path === "/trap") throw new WebAssembly.RuntimeError("unreachable");
  if (path === "/trap-later") {
    queueMicrotask(() => { throw new WebAssembly.RuntimeError("unreachable"); });
    return new Response("answered before the trap");
  }
  if (path === "/throw") throw new Error("an ordinary error");
  if (path === "/arm-constructor-trap") {
    trapNextConstructor = true;
    return new Response("armed");
  }
  if (path.startsWith("/new-object")) {
    // Caught here, so only the object's own shim can notice the trap.
    return env.OBJECT.get(env.OBJECT.idFromName("two")).fetch(request).catch(() => new Response("failed", { status: 500 }));
  }
  if (path.startsWith("/object")) return env.OBJECT.get(env.OBJECT.idFromName("one")).fetch(request);
  return Response.json({ resets });
}
export async function queue() {}
// The hot path's synchronous entry (src/edge/fast_path.rs): everything but /plan-* takes
// the full path; /plan-trap traps inside the synchronous call.
export function plan_request(method, url) {
  const path = new URL(url).pathname;
  if (path === "/plan-trap") throw new WebAssembly.RuntimeError("unreachable");
  if (path === "/plan-answer") return "A200\\ncontent-type:text/plain\\nx-plan:yes\\n\\nanswered by the plan";
  return "F";
}
export function finish_request() { return "F"; }
export async function touch_request() {}
export function abandon_request() {}
export class AccountSessions {
  constructor() {
    if (trapNextConstructor) {
      trapNextConstructor = false;
      throw new WebAssembly.RuntimeError("unreachable");
    }
    this.createdAfterResets = resets;
  }
  async fetch(request) {
    if (new URL(request.url).pathname === "/object/trap") throw new WebAssembly.RuntimeError("unreachable");
    return Response.json({ createdAfterResets: this.createdAfterResets, resets });
  }
  async alarm() {}
}
`;

let mf;
let url;

before(async () => {
  mkdirSync(dir, { recursive: true });
  // The shim beside the stand-in glue, as worker-build's staging directory has them.
  writeFileSync(new URL("index.js", dir), GLUE);
  copyFileSync(new URL("scripts/shim/worker-shim.js", root), new URL("shim.js", dir));
  execFileSync(
    fileURLToPath(new URL("node_modules/.bin/esbuild", root)),
    ["./shim.js", "--bundle", "--format=esm", "--external:cloudflare:*", "--outfile=entry.mjs"],
    { cwd: dir, stdio: "pipe" },
  );
  mf = new Miniflare({
    modules: true,
    scriptPath: fileURLToPath(new URL("entry.mjs", dir)),
    compatibilityDate: "2025-01-01",
    durableObjects: { OBJECT: "AccountSessions" },
    handleRuntimeStdio() {}, // the shim logs "Critical ..." on purpose
  });
  url = await mf.ready;
});

after(async () => {
  await mf?.dispose();
});

const get = async (path) => {
  const res = await mf.dispatchFetch(new URL(path, url));
  return { status: res.status, body: await res.text() };
};

test("a trap resets the wasm state before the next request, once", async () => {
  assert.deepEqual(JSON.parse((await get("/")).body), { resets: 0 });
  assert.equal((await get("/trap")).status, 500);
  assert.deepEqual(JSON.parse((await get("/")).body), { resets: 1 });
  assert.deepEqual(JSON.parse((await get("/")).body), { resets: 1 });
});

test("the synchronous hot-path entry: a plan's answer is sent as encoded, and a trap in it resets too", async () => {
  const answered = await mf.dispatchFetch(new URL("/plan-answer", url));
  assert.deepEqual(
    [answered.status, answered.headers.get("x-plan"), await answered.text()],
    [200, "yes", "answered by the plan"],
  );
  const before = JSON.parse((await get("/")).body).resets;
  assert.equal((await get("/plan-trap")).status, 500);
  assert.deepEqual(JSON.parse((await get("/")).body), { resets: before + 1 });
});

test("an ordinary exception is not a trap: no reset", async () => {
  const before = JSON.parse((await get("/")).body).resets;
  assert.equal((await get("/throw")).status, 500);
  assert.deepEqual(JSON.parse((await get("/")).body), { resets: before });
});

test("a trap in a later microtask is caught too", async () => {
  const before = JSON.parse((await get("/")).body).resets;
  assert.equal((await get("/trap-later")).body, "answered before the trap");
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(JSON.parse((await get("/")).body), { resets: before + 1 });
});

test("a Durable Object re-creates its wasm object after a reset", async () => {
  const first = JSON.parse((await get("/object")).body);
  assert.equal(first.createdAfterResets, first.resets);
  assert.equal((await get("/object/trap")).status, 500);
  const after = JSON.parse((await get("/object")).body);
  assert.equal(after.resets, first.resets + 1);
  assert.equal(after.createdAfterResets, after.resets, "the object was rebuilt after the reset");
});

test("a trap in a Durable Object's constructor marks the instance critical too", async () => {
  const before = JSON.parse((await get("/")).body).resets;
  assert.equal((await get("/arm-constructor-trap")).body, "armed");
  assert.equal((await get("/new-object")).status, 500);
  assert.deepEqual(JSON.parse((await get("/")).body), { resets: before + 1 });
});
