// The real build, with each request wrapped so that reads of `request.cf` are counted
// (the runtime builds that object on first access, which is what the hot path avoids
// for a client it remembers: src/core/client_memory.rs). GET /__test/cf-reads answers
// the count since the last call and resets it.

import { wrappedBuild } from "./wrapped-build.mjs";

let reads = 0;
const build = wrappedBuild({});

/** The request as it is, but `cf` counted. Reflect.get on the target keeps the native
 * getters' receiver the real Request. */
function counted(request) {
  return new Proxy(request, {
    get(target, prop) {
      if (prop === "cf") reads++;
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

export const AccountSessions = build.AccountSessions;
export default {
  ...build.Worker,
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__test/cf-reads") {
      const answer = Response.json(reads);
      reads = 0;
      return answer;
    }
    return build.Worker.fetch(counted(request), env, ctx);
  },
};
