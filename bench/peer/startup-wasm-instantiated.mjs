// A startup peer (bench/startup.mjs): startup-wasm-imported.mjs, and the module is also
// instantiated at load, as wasm-bindgen's glue does, but with stub imports and without
// running `__wbindgen_start` or anything else of the glue. Its cold start minus
// startup-wasm-imported.mjs's is what instantiating costs (memory, data segments,
// tables, import and export wrappers).

import wasm from "../../build/index_bg.wasm";

export { AccountSessions } from "./startup-peer.mjs";

function stubImports(module) {
  const imports = {};
  for (const { module: from, name, kind } of WebAssembly.Module.imports(module)) {
    imports[from] ??= {};
    if (kind === "function") {
      imports[from][name] = () => {
        throw new Error(`stub import ${name} called`);
      };
    } else if (kind === "tag") {
      imports[from][name] = WebAssembly.JSTag; // the glue's only tag import
    } else {
      throw new Error(`no stub for an imported ${kind}`);
    }
  }
  return imports;
}

const instance = new WebAssembly.Instance(wasm, stubImports(wasm));

export default {
  async fetch() {
    return Response.json({ status: "ok", exports: Object.keys(instance.exports).length });
  },
  async queue() {},
};
