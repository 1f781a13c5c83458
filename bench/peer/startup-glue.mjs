// A startup peer (bench/startup.mjs): the whole built entry (build/index.js: the shim
// and wasm-bindgen's glue) evaluated, so the module is compiled and instantiated with
// its real imports and `__wbindgen_start` and `__worker_init_state` have run, but
// /v1/health is answered here in JS. Its cold start minus the worker's own is what the
// worker's first request costs in wasm (the full path's future, the router, the answer,
// and compiling each function it calls for the first time).

import { AccountSessions } from "../../build/index.js";

export { AccountSessions };

export default {
  async fetch() {
    return Response.json({ status: "ok" });
  },
  async queue() {},
};
