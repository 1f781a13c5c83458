// The startup peer: a JavaScript worker with this worker's bindings (the KV namespace,
// the Durable Object class, the queue and the rate limiter, from wrangler.toml) that
// answers /v1/health. Started the same way as the worker, it shows what a cold start
// costs before any of the worker's own code runs: the gap between the two is the wasm
// module and its initialisation.

export class AccountSessions {
  async fetch() {
    return new Response("{}");
  }
}

export default {
  async fetch() {
    return Response.json({ status: "ok" });
  },
  async queue() {},
};
