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

// The hot path (src/edge/fast_path.rs): GET /v1/session in two synchronous calls into
// wasm, with the one KV read between them made here. Wasm decides everything; this only
// moves bytes: it reads the key wasm names, and builds the answer wasm encoded. Any other
// request, and anything wasm hands back, takes the full path through the async export.
const ANSWER = 65; // "A" + answer
const READ = 75; // "K" + number + "\n" + binding + "\n" + key
const ANSWER_AND_TOUCH = 84; // "T" + number + "\n" + answer
const NEEDS_CF = 67; // "C": call finish_request again, with request.cf's lines

function callSync(call) {
  try {
    return call();
  } catch (error) {
    handleMaybeCritical(error);
    throw error;
  }
}

function fullPath(request, env, ctx) {
  return guarded(() => exports.fetch(request, env, ctx));
}

/** A response from `Answer::encode`'s text, which starts at `start`: the status, one
 * `name:value` line per header, an empty line, the body. Read in place with indexOf
 * (no split): this runs on every fast-path answer. */
function respond(text, start) {
  let lineEnd = text.indexOf("\n", start);
  const status = Number(text.slice(start, lineEnd));
  const headers = [];
  for (let from = lineEnd + 1; (lineEnd = text.indexOf("\n", from)) !== from; from = lineEnd + 1) {
    const colon = text.indexOf(":", from);
    headers.push([text.slice(from, colon), text.slice(colon + 1, lineEnd)]);
  }
  const body = lineEnd + 1 < text.length ? text.slice(lineEnd + 1) : null;
  return new Response(body, { status, headers });
}

/** The theft signals `ClientSignals::from_lines` reads (src/core/drift.rs), in two parts:
 * three headers, read once a session was found; and six fields of `request.cf`, read only
 * when wasm asks for them (NEEDS_CF), since the runtime builds `request.cf` on first
 * access and a client wasm remembers needs none of it. An empty line is a value the
 * request does not have. */
function clientOf(request) {
  const headers = request.headers;
  return `${headers.get("cf-connecting-ip") ?? ""}\n${headers.get("user-agent") ?? ""}\n${
    headers.get("sec-ch-ua-platform") ?? ""
  }`;
}

function cfOf(request) {
  const cf = request.cf;
  if (!cf) return "\n\n\n\n\n";
  return `${cf.asn ?? ""}\n${cf.country ?? ""}\n${cf.tlsClientCiphersSha1 ?? ""}\n${cf.tlsClientExtensionsSha1 ?? ""}\n${
    cf.tlsVersion ?? ""
  }\n${cf.botManagement?.ja4 ?? ""}`;
}

function finish(number, value, request, env, ctx) {
  checkReinitialize(); // after a reset the request's state is gone, and wasm says "F"
  const client = value === null ? null : clientOf(request);
  let done = callSync(() => exports.finish_request(number, value, client, null));
  if (done.charCodeAt(0) === NEEDS_CF) {
    const cf = cfOf(request);
    done = callSync(() => exports.finish_request(number, value, client, cf));
  }
  const kind = done.charCodeAt(0);
  if (kind === ANSWER) return respond(done, 1);
  if (kind === ANSWER_AND_TOUCH) {
    const lineEnd = done.indexOf("\n");
    const touch = Number(done.slice(1, lineEnd));
    ctx.waitUntil(guarded(() => exports.touch_request(touch)));
    return respond(done, lineEnd + 1);
  }
  return fullPath(request, env, ctx);
}

// A plain object, not a WorkerEntrypoint subclass: the runtime then has no instance to
// construct per request. (Nothing here uses RPC, which would need the class.)
export default {
  fetch(request, env, ctx) {
    checkReinitialize();
    const headers = request.headers;
    const plan = callSync(() =>
      exports.plan_request(
        request.method,
        request.url,
        headers.get("cookie"),
        headers.get("authorization"),
        headers.get("origin"),
        // Read only for a metrics data point: request.cf is built on first access.
        env.METRICS ? request.cf?.colo : undefined,
        env,
      ),
    );
    const kind = plan.charCodeAt(0);
    if (kind === ANSWER) return respond(plan, 1);
    if (kind !== READ) return fullPath(request, env, ctx);
    const numberEnd = plan.indexOf("\n");
    const bindingEnd = plan.indexOf("\n", numberEnd + 1);
    const number = Number(plan.slice(1, numberEnd));
    const abandon = () => {
      exports.abandon_request(number);
      return fullPath(request, env, ctx); // it reads again, and reports a failure
    };
    let read;
    try {
      // Bytes, not text: the record is copied into wasm memory as it is.
      read = env[plan.slice(numberEnd + 1, bindingEnd)].get(plan.slice(bindingEnd + 1), "arrayBuffer");
    } catch {
      return abandon(); // no such binding
    }
    return read.then(
      (value) => finish(number, value === null ? null : new Uint8Array(value), request, env, ctx),
      abandon,
    );
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
