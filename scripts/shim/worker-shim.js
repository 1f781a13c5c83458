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
const NEEDS_CF = 67; // "C": call the finish export again, with request.cf's lines
const GATED = 71; // "G": a gated request; go on with plan_gated (src/edge/fast_gate.rs)
const FORWARD = 80; // "P" + a forward plan

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

/** Calls a finish export (`finish_request`, `finish_gated`) with the KV value and the
 * client's header lines, and once more with request.cf's lines if wasm asks for them. */
function finishWith(finishExport, number, value, request) {
  const client = value === null ? null : clientOf(request);
  const done = callSync(() => finishExport(number, value, client, null));
  if (done.charCodeAt(0) !== NEEDS_CF) return done;
  const cf = cfOf(request);
  return callSync(() => finishExport(number, value, client, cf));
}

function finish(number, value, request, env, ctx) {
  checkReinitialize(); // after a reset the request's state is gone, and wasm says "F"
  const done = finishWith(exports.finish_request, number, value, request);
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

/** Reads `key` from the KV binding wasm named, as bytes (copied into wasm memory as they
 * are), then `then(number, bytes)`; a failed read (or no such binding) calls `abandon`,
 * which takes the full path. */
function readKv(plan, request, env, ctx, abandonExport, then) {
  const numberEnd = plan.indexOf("\n");
  const bindingEnd = plan.indexOf("\n", numberEnd + 1);
  const number = Number(plan.slice(1, numberEnd));
  const abandon = () => {
    abandonExport(number);
    return fullPath(request, env, ctx); // it reads again, and reports a failure
  };
  let read;
  try {
    read = env[plan.slice(numberEnd + 1, bindingEnd)].get(plan.slice(bindingEnd + 1), "arrayBuffer");
  } catch {
    return abandon(); // no such binding
  }
  return read.then((value) => then(number, value === null ? null : new Uint8Array(value)), abandon);
}

// The gated forward (src/edge/fast_gate.rs). Wasm plans it from the request's header
// names; this copies the request's headers, deletes and sets what the plan says, sends
// the copy (redirects returned, not followed) and races it against the origin timeout.
// An origin failure's answer is wasm's too (gated_failed).

function gated(request, env, ctx) {
  const headers = request.headers;
  let names = "";
  for (const name of headers.keys()) names += names === "" ? name : `,${name}`;
  const plan = callSync(() =>
    exports.plan_gated(names, headers.get("accept"), headers.get("sec-fetch-dest"), headers.get("cf-connecting-ip")),
  );
  const kind = plan.charCodeAt(0);
  if (kind === ANSWER) return respond(plan, 1);
  if (kind === FORWARD) return forward(plan, request, env, ctx);
  if (kind !== READ) return fullPath(request, env, ctx);
  return readKv(plan, request, env, ctx, exports.abandon_gated, (number, value) => {
    checkReinitialize(); // after a reset the request's state is gone, and wasm says "F"
    const done = finishWith(exports.finish_gated, number, value, request);
    const kind = done.charCodeAt(0);
    if (kind === ANSWER) return respond(done, 1);
    if (kind === FORWARD) return forward(done, request, env, ctx);
    return fullPath(request, env, ctx);
  });
}

/** Sends the request to the origin as a forward plan says (its lines are described in
 * src/edge/fast_gate.rs). */
function forward(plan, request, env, ctx) {
  let at = 1;
  const line = () => {
    const end = plan.indexOf("\n", at);
    const text = plan.slice(at, end);
    at = end + 1;
    return text;
  };
  const method = line();
  const url = line();
  const timeoutMs = Number(line());
  const flags = line();
  const touch = line();
  const dataPoint = line(); // empty unless METRICS is bound
  const deleted = line();
  const controller = new AbortController();
  let sent;
  try {
    const headers = new Headers(request.headers);
    if (deleted !== "") for (const name of deleted.split(",")) headers.delete(name);
    for (let end; (end = plan.indexOf("\n", at)) !== at; at = end + 1) {
      const colon = plan.indexOf(":", at);
      headers.set(plan.slice(at, colon), plan.slice(colon + 1, end));
    }
    const init = { method, headers, redirect: "manual", signal: controller.signal };
    if (flags.includes("n")) init.cache = "no-store";
    if (flags.includes("b")) init.body = request.body;
    sent = fetch(url, init);
  } catch {
    // A header or request the runtime refuses, before anything was sent: the full path
    // builds the request through its own checks and answers with this worker's JSON.
    return fullPath(request, env, ctx);
  }
  at += 1; // the empty line; what follows is appended to the origin's answer
  if (touch !== "") ctx.waitUntil(guarded(() => exports.touch_gated(Number(touch))));
  // Read only for a metrics data point: request.cf is built on first access.
  const colo = dataPoint === "" ? undefined : request.cf?.colo;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  return sent.then(
    (response) => {
      clearTimeout(timer);
      if (dataPoint !== "") callSync(() => exports.gated_answered(dataPoint, response.status, colo, env));
      if (at >= plan.length) return response;
      // The origin's headers are immutable; a copy carries what wasm adds.
      const answer = new Response(response.body, response);
      for (let end; (end = plan.indexOf("\n", at)) !== -1; at = end + 1) {
        const colon = plan.indexOf(":", at);
        answer.headers.append(plan.slice(at, colon), plan.slice(colon + 1, end));
      }
      return answer;
    },
    (error) => {
      clearTimeout(timer);
      return respond(
        callSync(() => exports.gated_failed(dataPoint || undefined, timedOut, error, colo, env)),
        1,
      );
    },
  );
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
    if (kind === GATED) return gated(request, env, ctx);
    if (kind !== READ) return fullPath(request, env, ctx);
    return readKv(plan, request, env, ctx, exports.abandon_request, (number, value) =>
      finish(number, value, request, env, ctx),
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
