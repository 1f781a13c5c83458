// Wraps the real build/index.js so a test or the benchmark can change what its
// bindings do (inject a fault, count calls) without touching the worker's code.

import SessionsWorker, { AccountSessions as InnerAccountSessions } from "../../build/index.js";

/**
 * A Proxy over a native binding. `overrides[name]` receives the real method (bound to
 * the real binding) and returns its replacement. Every other method is bound to the
 * real binding, which refuses a Proxy as `this`. `constructor` passes through untouched
 * so workers-rs still recognises the binding's type.
 */
export function wrapBinding(binding, overrides) {
  return new Proxy(binding, {
    get(obj, prop) {
      const value = Reflect.get(obj, prop);
      if (typeof value !== "function" || prop === "constructor") return value;
      const real = value.bind(obj);
      return Object.hasOwn(overrides, prop) ? overrides[prop](real) : real;
    },
  });
}

/** An env whose named bindings are replaced by `wrap[name](binding)`. */
export function wrapEnv(env, wrap) {
  return new Proxy(env, {
    get(obj, prop) {
      const binding = Reflect.get(obj, prop);
      return Object.hasOwn(wrap, prop) ? wrap[prop](binding) : binding;
    },
  });
}

/** The built worker and its Durable Object class, each given `wrapEnv(env, wrap)`. */
export function wrappedBuild(wrap) {
  class AccountSessions extends InnerAccountSessions {
    constructor(state, env) {
      super(state, wrapEnv(env, wrap));
    }
  }
  // The build's default export is a plain handler object (scripts/shim/worker-shim.js).
  const Worker = {
    fetch: (request, env, ctx) => SessionsWorker.fetch(request, wrapEnv(env, wrap), ctx),
    queue: (batch, env, ctx) => SessionsWorker.queue(batch, wrapEnv(env, wrap), ctx),
  };
  return { Worker, AccountSessions };
}
