// The floor: a worker that does one KV `get` of a fixed key and answers it, and nothing
// else. Any KV-backed validator pays this (bench/run.mjs); its cold start is the least a
// worker with a KV binding pays (bench/startup.mjs).

export default {
  async fetch(request, env) {
    const value = await env.BASELINE.get("fixed");
    return new Response(value, { headers: { "Content-Type": "application/json" } });
  },
};
