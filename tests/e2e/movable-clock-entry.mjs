// The real build with a clock a test can move forward: `Date.now` in this isolate (the
// worker and its Durable Object both read time through it) runs `offset` ahead of the
// host's clock. POST /__test/clock?advance_secs=N moves it on and answers the offset.
// The route is this wrapper's, never the worker's: the worker itself has no such switch.

import { wrappedBuild } from "./wrapped-build.mjs";

const realNow = Date.now;
let offsetMs = 0;
Date.now = () => realNow() + offsetMs;

const build = wrappedBuild({});

export const AccountSessions = build.AccountSessions;
export default {
  ...build.Worker,
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__test/clock" && request.method === "POST") {
      const advance = Number(url.searchParams.get("advance_secs"));
      if (!Number.isFinite(advance) || advance < 0) return new Response("advance_secs >= 0", { status: 400 });
      offsetMs += advance * 1000;
      return Response.json({ offset_secs: offsetMs / 1000 });
    }
    return build.Worker.fetch(request, env, ctx);
  },
};
