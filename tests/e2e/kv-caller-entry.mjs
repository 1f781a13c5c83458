// The real build, with a KV binding that notes, for each read of a session key, whether
// wasm was on the stack: the hot path reads KV from the entry shim (plain JS), the full
// path from inside wasm. GET /__test/kv-readers answers the notes and clears them.

import { wrapBinding, wrappedBuild } from "./wrapped-build.mjs";

let readers = [];

const build = wrappedBuild({
  SESSIONS: (kv) =>
    wrapBinding(kv, {
      get:
        (real) =>
        (key, ...rest) => {
          if (String(key).startsWith("session:")) readers.push(/wasm/.test(new Error().stack) ? "wasm" : "shim");
          return real(key, ...rest);
        },
    }),
});

export const AccountSessions = build.AccountSessions;
export default {
  ...build.Worker,
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__test/kv-readers") {
      const answer = Response.json(readers);
      readers = [];
      return answer;
    }
    return build.Worker.fetch(request, env, ctx);
  },
};
