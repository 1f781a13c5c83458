// The build's full-path twin (build/full-path.js), for the differential tests only
// (tests/e2e/fast-gate.test.mjs): the same wasm-bindgen glue and the same entry shim
// (its Durable Object class and queue handler), but every request goes straight to the
// async `fetch` export, which is what the shim's fast paths must answer exactly like.
// Nothing deploys it: wrangler bundles from build/index.js alone.

import * as exports from "./index.js";
import shim, { AccountSessions } from "./shim.js";

export { AccountSessions };
export default {
  fetch: (request, env, ctx) => exports.fetch(request, env, ctx),
  queue: (batch, env, ctx) => shim.queue(batch, env, ctx),
};
