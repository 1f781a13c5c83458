// The benchmark's build of the worker: the real build/index.js, with its KV namespace
// and Durable Object namespace wrapped so every call is counted. GET
// /__bench/counters reads the counts and DELETE resets them. The worker and its
// Durable Object run in one isolate locally, so both sides' calls land here.

import SessionsWorker, { AccountSessions as InnerAccountSessions } from "../build/index.js";

const counters = { kv_get: 0, kv_put: 0, kv_delete: 0, kv_list: 0, do_requests: 0 };

function countCalls(target, names) {
  return new Proxy(target, {
    get(obj, prop) {
      const value = Reflect.get(obj, prop);
      // `constructor` passes through untouched so workers-rs still recognises the
      // binding's type; other methods are bound to the real object (native bindings
      // refuse a Proxy as `this`), and the named ones are counted.
      if (typeof value !== "function" || prop === "constructor") return value;
      if (!Object.hasOwn(names, prop)) return value.bind(obj);
      return (...args) => {
        if (names[prop]) counters[names[prop]]++;
        const result = value.apply(obj, args);
        return prop === "get" && names === DO_NAMESPACE ? countCalls(result, DO_STUB) : result;
      };
    },
  });
}

const KV = { get: "kv_get", getWithMetadata: "kv_get", put: "kv_put", delete: "kv_delete", list: "kv_list" };
const DO_NAMESPACE = { get: null };
const DO_STUB = { fetch: "do_requests" };

function wrapEnv(env) {
  return new Proxy(env, {
    get(obj, prop) {
      const value = Reflect.get(obj, prop);
      if (prop === "SESSIONS") return countCalls(value, KV);
      if (prop === "ACCOUNTS") return countCalls(value, DO_NAMESPACE);
      return value;
    },
  });
}

export class AccountSessions extends InnerAccountSessions {
  constructor(state, env) {
    super(state, wrapEnv(env));
  }
}

export default class extends SessionsWorker {
  constructor(ctx, env) {
    super(ctx, wrapEnv(env));
  }

  fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/counters") {
      const body = JSON.stringify(counters);
      if (request.method === "DELETE") for (const key of Object.keys(counters)) counters[key] = 0;
      return new Response(body, { headers: { "Content-Type": "application/json" } });
    }
    return super.fetch(request);
  }
}
