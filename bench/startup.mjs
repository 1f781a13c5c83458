// Cold start, and where it goes: a script that prints numbers, never a test.
//
//   node bench/startup.mjs                  (or BENCH_ONLY=startup npm run bench)
//   STARTUP_ROUNDS=15                       starts per runtime (the default); the median is kept
//   STARTUP_RUNTIMES=worker,js_same_bindings only these runtimes (names below)
//   STARTUP_V8_FLAGS="--no-wasm-lazy-compilation"  V8 flags for every workerd started
//   STARTUP_COMPARE_SCRIPT=build/before/index.js   another build, as the runtime `compare`
//   STARTUP_SIZES=1                         adds the size sweep (addSizeRuntimes below)
//
// One start is what the benchmark's startup figure always meant: a new Miniflare, so a
// new workerd process, to the first answer of GET /v1/health, then disposed (bench/run.mjs
// uses `measureStartup` for it). Every runtime is given
// exactly the Miniflare options the end-to-end harness gives this worker
// (`miniflareOptions`: wrangler.toml's KV namespace, Durable Object class, queue and rate
// limiter, its vars), so the only difference between two runtimes is their script. The
// rounds alternate the runtimes (each round in a rotated order), because this machine's
// two cores are shared and its timings drift from minute to minute.
//
// The runtimes, each a step from the same-bindings JS worker towards this worker, so
// that the difference between neighbours is one component of the cold start:
//
//   js_same_bindings    bench/peer/startup-peer.mjs: the bindings, no wasm
//   wasm_imported       + imports build/index_bg.wasm (workerd compiles it at script load)
//   wasm_instantiated   + instantiates it, with stub imports
//   glue_evaluated      build/index.js evaluated (real imports, __wbindgen_start), /v1/health answered in JS
//   worker              build/index.js: the first request answered by wasm
//   one_kv_baseline     bench/peer/one-kv.mjs with a single KV namespace: what a worker without our bindings pays
//
// Each start is split where Miniflare lets us see: before workerd is spawned (Miniflare
// assembling the configuration, in this process), workerd's start until it listens (it
// loads every worker's script before it opens its sockets), Miniflare's own readiness
// after that, and the first request. CPU time at the first answer is printed too, less
// noisy than wall time on a shared machine: this process's (Miniflare's work) and the
// workerd process's (its live threads' schedstat, and user + system from /proc/<pid>/stat
// in ticks, which also counts exited threads). bench/first-compiles.mjs says which wasm
// functions V8 compiles in a cold start.

import { Miniflare, Runtime } from "miniflare";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { miniflareOptions, wranglerConfig } from "../tests/e2e/harness.mjs";
import { withCodeFraction, withPadding } from "./wasm-variants.mjs";
import { cpuSeconds, threadCpuSeconds, workerdPids } from "./workerd-process.mjs";

const root = new URL("../", import.meta.url);
const peer = (file) => fileURLToPath(new URL(`bench/peer/${file}`, root));

/** The one-KV baseline worker's Miniflare options (also the CPU floor of bench/run.mjs). */
export function baselineOptions() {
  return {
    modules: true,
    scriptPath: peer("one-kv.mjs"),
    compatibilityDate: wranglerConfig.compatibility_date,
    kvNamespaces: ["BASELINE"],
  };
}

export const RUNTIMES = {
  js_same_bindings: { path: "/v1/health", options: () => miniflareOptions({ scriptPath: peer("startup-peer.mjs") }) },
  wasm_imported: {
    path: "/v1/health",
    options: () => miniflareOptions({ scriptPath: peer("startup-wasm-imported.mjs") }),
  },
  wasm_instantiated: {
    path: "/v1/health",
    options: () => miniflareOptions({ scriptPath: peer("startup-wasm-instantiated.mjs") }),
  },
  glue_evaluated: { path: "/v1/health", options: () => miniflareOptions({ scriptPath: peer("startup-glue.mjs") }) },
  worker: { path: "/v1/health", options: () => miniflareOptions() },
  one_kv_baseline: { path: "/", options: baselineOptions },
};

/**
 * STARTUP_COMPARE_SCRIPT: another build's index.js (e.g. the commit before, built the
 * same way), started like the worker, for before/after figures in one run.
 */
if (process.env.STARTUP_COMPARE_SCRIPT) {
  const scriptPath = process.env.STARTUP_COMPARE_SCRIPT;
  RUNTIMES.compare = { path: "/v1/health", options: () => miniflareOptions({ scriptPath }) };
}

/**
 * The size sweep (STARTUP_SIZES=1): wasm_imported with variants of the built module
 * (bench/wasm-variants.mjs), each written with a copy of startup-wasm-imported.mjs that
 * imports it to build/startup-sizes/<name>/. `code_half` and `code_quarter` keep half
 * and a quarter of the function bodies' bytes (less to validate and less for Miniflare
 * to copy); `padded` adds half the module's size again as a custom section (more bytes
 * for Miniflare, the same code for V8).
 */
export function addSizeRuntimes() {
  const wasm = readFileSync(new URL("build/index_bg.wasm", root));
  const peerSource = readFileSync(new URL("bench/peer/startup-wasm-imported.mjs", root), "utf8");
  const variants = {
    code_half: withCodeFraction(wasm, 0.5),
    code_quarter: withCodeFraction(wasm, 0.25),
    padded: withPadding(wasm, wasm.length >> 1),
  };
  const sizes = { wasm_imported: wasm.length };
  for (const [name, bytes] of Object.entries(variants)) {
    const dir = new URL(`build/startup-sizes/${name}/`, root);
    mkdirSync(dir, { recursive: true });
    writeFileSync(new URL("module.wasm", dir), bytes);
    const peerDir = relative(fileURLToPath(dir), fileURLToPath(new URL("bench/peer/", root)));
    const source = peerSource
      .replace('"../../build/index_bg.wasm"', '"./module.wasm"')
      .replace('"./startup-peer.mjs"', JSON.stringify(`${peerDir}/startup-peer.mjs`));
    writeFileSync(new URL("peer.mjs", dir), source);
    const scriptPath = fileURLToPath(new URL("peer.mjs", dir));
    RUNTIMES[`wasm_imported_${name}`] = { path: "/v1/health", options: () => miniflareOptions({ scriptPath }) };
    sizes[`wasm_imported_${name}`] = bytes.length;
  }
  return sizes;
}

// --- V8 flags, for experiments: Miniflare has no option for workerd's `v8Flags` ---

/** A capnp list pointer: `count` elements of `size` (2: bytes, 6: pointers), `offset` words after the pointer. */
function listPointer(offset, size, count) {
  return 1n | (BigInt(offset & 0x3fffffff) << 2n) | (BigInt(size) << 32n) | (BigInt(count) << 35n);
}

/**
 * Miniflare's binary workerd config (a capnp message) with `Config.v8Flags` (pointer 2
 * of the root struct, workerd.capnp) set to `flags`: the list and its texts are appended
 * to the end of segment 0, which moves nothing else (far pointers name a segment).
 */
export function withV8Flags(message, flags) {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const segments = view.getUint32(0, true) + 1;
  const sizes = Array.from({ length: segments }, (_, i) => view.getUint32(4 + 4 * i, true));
  const header = Math.ceil((4 + 4 * segments) / 8) * 8;
  const root = view.getBigUint64(header, true);
  if ((root & 3n) !== 0n) throw new Error("the config's root is not a struct");
  const structWord = 1 + Number(BigInt.asIntN(30, (root >> 2n) & 0x3fffffffn));
  const dataWords = Number((root >> 32n) & 0xffffn);
  const pointerWords = Number((root >> 48n) & 0xffffn);
  const slotWord = structWord + dataWords + 2;
  if (pointerWords < 3 || view.getBigUint64(header + slotWord * 8, true) !== 0n)
    throw new Error("the config has no empty v8Flags pointer");
  const texts = flags.map((flag) => Buffer.from(`${flag}\0`));
  const textWords = texts.map((text) => Math.ceil(text.length / 8));
  const added = flags.length + textWords.reduce((a, b) => a + b, 0);
  const seg0End = header + sizes[0] * 8;
  const out = Buffer.alloc(message.length + added * 8);
  Buffer.from(message.buffer, message.byteOffset, seg0End).copy(out, 0);
  Buffer.from(message.buffer, message.byteOffset + seg0End, message.length - seg0End).copy(out, seg0End + added * 8);
  const o = new DataView(out.buffer, out.byteOffset, out.byteLength);
  o.setUint32(4, sizes[0] + added, true);
  const listWord = sizes[0];
  o.setBigUint64(header + slotWord * 8, listPointer(listWord - slotWord - 1, 6, flags.length), true);
  let textWord = listWord + flags.length;
  texts.forEach((text, i) => {
    const pointerWord = listWord + i;
    o.setBigUint64(header + pointerWord * 8, listPointer(textWord - pointerWord - 1, 2, text.length), true);
    text.copy(out, header + textWord * 8);
    textWord += textWords[i];
  });
  return out;
}

// --- Measuring ---

let marks = {};

/** Marks when Miniflare spawns workerd and when workerd says it listens, and gives every
 * workerd started `flags` as V8 flags. Returns the function that undoes it. */
export function instrumentRuntime(flags = []) {
  const updateConfig = Runtime.prototype.updateConfig;
  Runtime.prototype.updateConfig = async function (configBuffer, ...rest) {
    marks.spawn = performance.now();
    marks.nodeCpuBeforeSpawn = process.cpuUsage(marks.nodeCpu);
    try {
      return await updateConfig.call(this, flags.length ? withV8Flags(configBuffer, flags) : configBuffer, ...rest);
    } finally {
      marks.listening = performance.now();
    }
  };
  return () => (Runtime.prototype.updateConfig = updateConfig);
}

async function startOnce(runtime) {
  const before = workerdPids();
  marks = { nodeCpu: process.cpuUsage() };
  const t0 = performance.now();
  const mf = new Miniflare({
    ...runtime.options(),
    handleRuntimeStdio(stdout, stderr) {
      stdout.resume();
      stderr.resume();
    },
  });
  try {
    const url = await mf.ready;
    const ready = performance.now();
    const res = await mf.dispatchFetch(new URL(runtime.path, url));
    const body = await res.text();
    const answered = performance.now();
    const nodeCpu = process.cpuUsage(marks.nodeCpu);
    if (res.status !== 200) throw new Error(`${runtime.path} answered ${res.status}: ${body}`);
    const pid = [...workerdPids()].find((p) => !before.has(p));
    return {
      total: answered - t0,
      from_spawn: answered - marks.spawn,
      before_spawn: marks.spawn - t0,
      workerd_to_listening: marks.listening - marks.spawn,
      miniflare_ready: ready - marks.listening,
      first_request: answered - ready,
      node_cpu_before_spawn: (marks.nodeCpuBeforeSpawn.user + marks.nodeCpuBeforeSpawn.system) / 1000,
      node_cpu: (nodeCpu.user + nodeCpu.system) / 1000,
      workerd_cpu: pid ? threadCpuSeconds(pid) * 1000 : NaN,
      workerd_cpu_ticks: pid ? cpuSeconds(pid) * 1000 : NaN,
    };
  } finally {
    await mf.dispose();
  }
}

const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const ms = (n) => Math.round(n * 10) / 10;

/**
 * `rounds` starts of each named runtime, alternating; per runtime the median of each
 * phase (ms) and every start's total. `flags`: V8 flags for every workerd started.
 */
export async function measureStartup(names = Object.keys(RUNTIMES), { rounds = 15, flags = [] } = {}) {
  const restore = instrumentRuntime(flags);
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  try {
    await startOnce(RUNTIMES[names[0]]); // warms this process (module loading, the first spawn)
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < names.length; i++) {
        const name = names[(round + i) % names.length];
        samples[name].push(await startOnce(RUNTIMES[name]));
      }
    }
  } finally {
    restore();
  }
  return Object.fromEntries(
    names.map((name) => {
      const starts = samples[name];
      const phases = Object.fromEntries(Object.keys(starts[0]).map((k) => [k, ms(median(starts.map((s) => s[k])))]));
      return [name, { ...phases, totals: starts.map((s) => ms(s.total)) }];
    }),
  );
}

/** Each step's cost: a runtime's median minus the one before it (in RUNTIMES' order). */
function steps(results, key) {
  const order = ["js_same_bindings", "wasm_imported", "wasm_instantiated", "glue_evaluated", "worker"];
  const out = {};
  for (let i = 1; i < order.length; i++) {
    const [a, b] = [results[order[i - 1]], results[order[i]]];
    if (a && b) out[`${order[i - 1]} → ${order[i]}`] = ms(b[key] - a[key]);
  }
  return out;
}

/** Per module (STARTUP_SIZES): its cost over js_same_bindings' per 100 KB of module, per phase. */
function perHundredKb(results, sizes) {
  const same = results.js_same_bindings;
  const out = {};
  for (const [name, bytes] of Object.entries(sizes ?? {})) {
    if (!results[name] || !same) continue;
    const per = (key) => ms((results[name][key] - same[key]) / (bytes / 100_000));
    out[name] = {
      kb: Math.round(bytes / 1000),
      total: per("total"),
      from_spawn: per("from_spawn"),
      node_cpu_before_spawn: per("node_cpu_before_spawn"),
      workerd_cpu: per("workerd_cpu"),
    };
  }
  return out;
}

export function printStartup(results, sizes) {
  console.log("\ncold start, median per runtime (ms):");
  console.table(Object.fromEntries(Object.entries(results).map(([name, { totals: _, ...phases }]) => [name, phases])));
  console.log("each step (the difference of two medians, ms): wall", steps(results, "total"));
  console.log("                                         workerd CPU", steps(results, "workerd_cpu"));
  if (sizes) {
    console.log("ms per 100 KB of module over js_same_bindings:");
    console.table(perHundredKb(results, sizes));
  }
  const { worker, js_same_bindings: same } = results;
  for (const [name, r] of Object.entries({ worker, compare: results.compare }))
    if (r && same)
      console.log(
        `${name} / same-bindings JS worker: ${ms(r.total / same.total)} × (from workerd's spawn: ${ms(r.from_spawn / same.from_spawn)} ×; workerd CPU: ${ms(r.workerd_cpu / same.workerd_cpu)} ×)`,
      );
}

async function main() {
  const sizes = process.env.STARTUP_SIZES ? addSizeRuntimes() : undefined;
  if (sizes) console.log("module bytes:", sizes);
  const names = process.env.STARTUP_RUNTIMES?.split(",") ?? Object.keys(RUNTIMES);
  for (const name of names) if (!RUNTIMES[name]) throw new Error(`no runtime ${name}: ${Object.keys(RUNTIMES)}`);
  const rounds = Number(process.env.STARTUP_ROUNDS ?? 15);
  const flags = process.env.STARTUP_V8_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  const results = await measureStartup(names, { rounds, flags });
  printStartup(results, sizes);
  mkdirSync(new URL("bench/results/", root), { recursive: true });
  const record = { date: new Date().toISOString(), rounds, v8_flags: flags, module_bytes: sizes, runtimes: results };
  writeFileSync(new URL("bench/results/startup.json", root), JSON.stringify(record, null, 2) + "\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
