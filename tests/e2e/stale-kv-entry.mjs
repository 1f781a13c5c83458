// The real build with a KV binding that keeps serving the first value it read for each
// key (a location that has not seen a touch yet), and a count of the Durable Object
// requests the worker makes. GET /__test/do-requests reads the count.

import { wrapBinding, wrappedBuild } from "./wrapped-build.mjs";

let doRequests = 0;
const firstSeen = new Map();

const build = wrappedBuild({
  SESSIONS: (kv) =>
    wrapBinding(kv, {
      get: (real) => async (key, options) => {
        // Kept as text and served as each reader asks (the hot path reads bytes).
        if (!firstSeen.has(key)) firstSeen.set(key, await real(key, "text"));
        const text = firstSeen.get(key);
        const type = (typeof options === "string" ? options : options?.type) ?? "text";
        if (text === null || type === "text") return text;
        if (type === "arrayBuffer") return new TextEncoder().encode(text).buffer;
        if (type === "json") return JSON.parse(text);
        throw new Error(`unsupported KV value type ${type}`);
      },
    }),
  ACCOUNTS: (namespace) =>
    wrapBinding(namespace, {
      get:
        (real) =>
        (...args) =>
          wrapBinding(real(...args), {
            fetch:
              (realFetch) =>
              (...fetchArgs) => {
                doRequests++;
                return realFetch(...fetchArgs);
              },
          }),
    }),
});

export const AccountSessions = build.AccountSessions;
export default {
  ...build.Worker,
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__test/do-requests") return new Response(String(doRequests));
    return build.Worker.fetch(request, env, ctx);
  },
};
