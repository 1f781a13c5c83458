// The real build/index.js with one fault injected at the platform boundary: every KV
// delete fails, as during a KV outage. The worker's code is untouched; only its
// SESSIONS binding is wrapped. Used to observe the revocation outbox.

import SessionsWorker, { AccountSessions as InnerAccountSessions } from "../../build/index.js";

function failingKvDeletes(env) {
  return new Proxy(env, {
    get(obj, prop) {
      const binding = Reflect.get(obj, prop);
      if (prop !== "SESSIONS") return binding;
      return new Proxy(binding, {
        get(kv, method) {
          const value = Reflect.get(kv, method);
          // `constructor` untouched so workers-rs still recognises the binding; other
          // methods bound to the real namespace (it refuses a Proxy as `this`).
          if (typeof value !== "function" || method === "constructor") return value;
          if (method === "delete") return async () => { throw new Error("simulated KV outage: delete failed"); };
          return value.bind(kv);
        },
      });
    },
  });
}

export class AccountSessions extends InnerAccountSessions {
  constructor(state, env) {
    super(state, failingKvDeletes(env));
  }
}

export default class extends SessionsWorker {
  constructor(ctx, env) {
    super(ctx, failingKvDeletes(env));
  }
}
