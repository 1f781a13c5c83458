// Called by scripts/shim/esbuild (worker-build's ESBUILD_BIN) in worker-build's staging
// directory, just before it bundles ./shim.js: checks that the shim worker-build wrote
// exports what scripts/shim/worker-shim.js handles, then puts ours in its place.
//
// A new handler (#[event(scheduled)], ...) or a new Durable Object class would appear
// in the generated shim first; the build then stops here instead of shipping a worker
// that silently lacks it.

import { readFileSync, writeFileSync } from "node:fs";

const HANDLERS = ["fetch", "queue"];
// Plain wasm exports the shim calls itself (the hot path's synchronous entry,
// src/edge/fast_path.rs, and the gated forward's, src/edge/fast_gate.rs). worker-build
// lists every export as a handler.
const FAST_PATH_EXPORTS = [
  "plan_request",
  "finish_request",
  "touch_request",
  "abandon_request",
  "plan_gated",
  "finish_gated",
  "abandon_gated",
  "touch_gated",
  "gated_answered",
  "gated_failed",
];
const DURABLE_OBJECTS = ["AccountSessions"];
// wasm-bindgen classes the worker crate exports that are not entrypoints.
const HELPER_CLASSES = ["ContainerStartupOptions", "MinifyConfig", "R2Range"];

const generated = readFileSync("./shim.js", "utf8");
const handlers = [...generated.matchAll(/^Entrypoint\.prototype\.(\w+) =/gm)].map((m) => m[1]);
const classes = [...generated.matchAll(/^export const (\w+) = new Proxy\(exports\.\1, classProxyHooks\);$/gm)].map(
  (m) => m[1],
);

const same = (a, b) => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
if (!same(handlers, [...HANDLERS, ...FAST_PATH_EXPORTS]) || !same(classes, [...DURABLE_OBJECTS, ...HELPER_CLASSES])) {
  console.error(
    `scripts/shim/worker-shim.js handles ${[...HANDLERS, ...FAST_PATH_EXPORTS].join(", ")} and ${DURABLE_OBJECTS.join(", ")}; ` +
      `worker-build generated handlers [${handlers.join(", ")}] and classes [${classes.join(", ")}]. ` +
      "Update the shim (and this check) to match.",
  );
  process.exit(1);
}
writeFileSync("./shim.js", readFileSync(new URL("./worker-shim.js", import.meta.url)));
