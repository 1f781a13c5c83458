// The benchmark's build of the worker: the real build/index.js, with its KV namespace
// and Durable Object namespace wrapped so every call is counted. GET
// /__bench/counters reads the counts and DELETE resets them. The worker and its
// Durable Object run in one isolate locally, so both sides' calls land here.

import { wrapBinding, wrappedBuild } from "../tests/e2e/wrapped-build.mjs";

const counters = { kv_get: 0, kv_put: 0, kv_delete: 0, kv_list: 0, do_requests: 0 };

const counted =
  (counter) =>
  (real) =>
  (...args) => {
    counters[counter]++;
    return real(...args);
  };

const build = wrappedBuild({
  SESSIONS: (kv) =>
    wrapBinding(kv, {
      get: counted("kv_get"),
      getWithMetadata: counted("kv_get"),
      put: counted("kv_put"),
      delete: counted("kv_delete"),
      list: counted("kv_list"),
    }),
  ACCOUNTS: (namespace) =>
    wrapBinding(namespace, {
      get:
        (real) =>
        (...args) =>
          wrapBinding(real(...args), { fetch: counted("do_requests") }),
    }),
});

export const AccountSessions = build.AccountSessions;

export default {
  ...build.Worker,
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/counters") {
      const body = JSON.stringify(counters);
      if (request.method === "DELETE") for (const key of Object.keys(counters)) counters[key] = 0;
      return new Response(body, { headers: { "Content-Type": "application/json" } });
    }
    return build.Worker.fetch(request, env, ctx);
  },
};
