// What V8 compiles in a cold worker: a script that prints numbers, never a test.
//
//   node bench/first-compiles.mjs [path] [index.js]     (path: /v1/health by default)
//
// Starts the built worker (or another build's index.js) in workerd with V8's
// --trace-wasm-compilation-times, sends one GET to `path`, and prints the wasm functions
// V8 compiled while loading the script and for that first request: how many, their body
// bytes and Liftoff's time, and the largest. workerd keeps V8's lazy compilation, so a
// function is compiled on its first call (docs/performance.md, "Cold start").

import { Miniflare } from "miniflare";
import { fileURLToPath } from "node:url";
import { miniflareOptions } from "../tests/e2e/harness.mjs";
import { instrumentRuntime } from "./startup.mjs";

const [path = "/v1/health", scriptPath] = process.argv.slice(2);
const TRACE = /#(\d+) using (\w+), took (\d+) μs and \d+ bytes; bodysize (\d+)/;

const lines = [];
let phase = "load";
const restore = instrumentRuntime(["--trace-wasm-compilation-times"]);
const mf = new Miniflare({
  ...miniflareOptions(scriptPath ? { scriptPath } : {}),
  handleRuntimeStdio(stdout, stderr) {
    for (const stream of [stdout, stderr]) {
      stream.setEncoding("utf8");
      stream.on("data", (chunk) => {
        for (const line of chunk.split("\n")) {
          const m = TRACE.exec(line);
          if (m) lines.push({ phase, index: Number(m[1]), tier: m[2], us: Number(m[3]), bytes: Number(m[4]) });
        }
      });
    }
  },
});
try {
  const url = await mf.ready;
  await new Promise((r) => setTimeout(r, 200)); // the trace of the load arrives through a pipe
  phase = "first request";
  const res = await mf.dispatchFetch(new URL(path, url));
  await res.arrayBuffer();
  await new Promise((r) => setTimeout(r, 200));
  console.log(
    `GET ${path}: ${res.status} (${scriptPath ?? fileURLToPath(new URL("../build/index.js", import.meta.url))})`,
  );
  for (const name of ["load", "first request"]) {
    const compiled = lines.filter((l) => l.phase === name);
    const sum = (key) => compiled.reduce((n, l) => n + l[key], 0);
    console.log(`${name}: ${compiled.length} functions, ${sum("bytes")} B of bodies, ${sum("us")} µs`);
    for (const l of [...compiled].sort((a, b) => b.bytes - a.bytes).slice(0, 3))
      console.log(`  #${l.index}: ${l.bytes} B, ${l.us} µs (${l.tier})`);
  }
} finally {
  await mf.dispose();
  restore();
}
