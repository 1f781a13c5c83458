// The module worker's entry: the fetch and queue handlers and the Durable Object class,
// around wasm-bindgen's glue (./index.js). It replaces the shim worker-build 0.8.7 writes
// (scripts/shim/swap-shim.mjs checks the two agree on what is exported) and keeps its
// recovery: a wasm trap (a panic, under panic = "abort") marks the instance critical,
// and the next call resets the wasm state before it runs.
//
// What it leaves out is the per-request cost. worker-build's shim builds the entrypoint
// through a Proxy, spreads a fresh handler object and wraps every method read in another
// Proxy: about 125 µs of workerd CPU per validation here, more than the worker's own
// work (docs/performance.md). Here the handlers are plain functions, and a Durable
// Object is re-created from its constructor arguments only after a reset.

import * as exports from "./index.js";

Error.stackTraceLimit = 100;
const initState = exports.__worker_init_state();

function checkReinitialize() {
  if (initState.criticalError) {
    console.log("Reinitializing Wasm application");
    exports.__wbg_reset_state();
    initState.criticalError = false;
    initState.instanceId++;
  }
}

function handleMaybeCritical(error) {
  if (error instanceof WebAssembly.RuntimeError) {
    console.error("Critical", error);
    initState.criticalError = true;
  }
}

// A trap inside a microtask (a future polled after an await) surfaces here.
addEventListener("error", (event) => handleMaybeCritical(event.error));

async function guarded(call) {
  checkReinitialize();
  try {
    return await call();
  } catch (error) {
    handleMaybeCritical(error);
    throw error;
  }
}

// A plain object, not a WorkerEntrypoint subclass: the runtime then has no instance to
// construct per request. (Nothing here uses RPC, which would need the class.)
export default {
  fetch(request, env, ctx) {
    return guarded(() => exports.fetch(request, env, ctx));
  },

  queue(batch, env, ctx) {
    return guarded(() => exports.queue(batch, env, ctx));
  },
};

/** The wasm Durable Object; a trap while building it marks the instance critical, as
 * worker-build's shim does, so the next call starts from a reset. */
function construct(args) {
  try {
    return new exports.AccountSessions(...args);
  } catch (error) {
    handleMaybeCritical(error);
    throw error;
  }
}

export class AccountSessions {
  #args;
  #instanceId;
  #inner;

  constructor(...args) {
    checkReinitialize();
    this.#args = args;
    this.#instanceId = initState.instanceId;
    this.#inner = construct(args);
  }

  /** The wasm object, re-created from the constructor's arguments after a reset. */
  #current() {
    if (this.#instanceId !== initState.instanceId) {
      this.#inner = construct(this.#args);
      this.#instanceId = initState.instanceId;
    }
    return this.#inner;
  }

  fetch(request) {
    return guarded(() => this.#current().fetch(request));
  }

  alarm(alarmInfo) {
    return guarded(() => this.#current().alarm(alarmInfo));
  }
}
