// A startup peer (bench/startup.mjs): the same-bindings JS worker of startup-peer.mjs,
// importing this worker's wasm module as the build does (a CompiledWasm module, which
// workerd compiles when it loads the script) but never instantiating it. Its cold start
// minus startup-peer.mjs's is what compiling the module costs.

import wasm from "../../build/index_bg.wasm";

export { AccountSessions } from "./startup-peer.mjs";

export default {
  async fetch() {
    // Read, so the import cannot be dropped as unused.
    return Response.json({ status: "ok", imports: WebAssembly.Module.imports(wasm).length });
  },
  async queue() {},
};
