// One location of the simulated fleet: the real build (build/index.js), with its
// bindings seen the way a location sees them. The worker itself is unchanged and has no
// test switch; only the bindings differ (as in tests/e2e/fault-entries.mjs).
//
// - SESSIONS: Workers KV as this location sees it, modelled by the simulator
//   (tests/fleet/kv-model.mjs) and reached through the service binding SIM.
// - ACCOUNTS: the one Durable Object namespace of the fleet; a reply can be lost on the
//   way back when the simulator's fault plan says so.
// - EVENTS: the queue; sends fail during the fault plan's outages.
// `SIM_LOCATION` (a var) names the location. The Durable Object class runs in the
// location that exports it to the others (the first), with that location's KV view.

import SessionsWorker, { AccountSessions as InnerAccountSessions } from "../../build/index.js";
import { wrapBinding, wrapEnv } from "../e2e/wrapped-build.mjs";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function ask(env, body) {
  const response = await env.SIM.fetch("http://sim/", { method: "POST", body: JSON.stringify(body) });
  return response.json();
}

function asText(value) {
  if (typeof value === "string") return value;
  if (value instanceof ArrayBuffer) return decoder.decode(value);
  if (ArrayBuffer.isView(value)) return decoder.decode(value);
  throw new Error("the simulated KV stores text and bytes only");
}

function typed(text, type) {
  switch (type ?? "text") {
    case "text":
      return text;
    case "json":
      return JSON.parse(text);
    case "arrayBuffer":
      return encoder.encode(text).buffer;
    case "stream":
      return new Response(text).body;
    default:
      throw new Error(`unsupported KV value type ${type}`);
  }
}

const typeOf = (options) => (typeof options === "string" ? options : options?.type);

function simulatedKv(kv, env) {
  const location = env.SIM_LOCATION;
  const read = async (key) => (await ask(env, { op: "get", location, key })).entry;
  const write = async (body) => {
    const answer = await ask(env, { ...body, location });
    if (answer.error) throw new Error(answer.error);
  };
  return wrapBinding(kv, {
    get: () => async (key, options) => {
      const entry = await read(key);
      return entry ? typed(entry.value, typeOf(options)) : null;
    },
    getWithMetadata: () => async (key, options) => {
      const entry = await read(key);
      return entry
        ? { value: typed(entry.value, typeOf(options)), metadata: entry.metadata, cacheStatus: null }
        : { value: null, metadata: null, cacheStatus: null };
    },
    put: () => async (key, value, options) => {
      const { expirationTtl, expiration, metadata } = options ?? {};
      await write({ op: "put", key, value: asText(value), options: { expirationTtl, expiration, metadata } });
    },
    delete: () => async (key) => write({ op: "delete", key }),
    list: () => async (options) => ask(env, { op: "list", location, options: options ?? {} }),
  });
}

function accountsWithLostReplies(namespace, env) {
  return wrapBinding(namespace, {
    get:
      (real) =>
      (...args) =>
        wrapBinding(real(...args), {
          fetch:
            (realFetch) =>
            async (request, ...rest) => {
              const op = (await request.clone().json()).op;
              const response = await realFetch(request, ...rest);
              const { lose } = await ask(env, { op: "fault", kind: "do_reply", command: op });
              if (lose) {
                await response.arrayBuffer();
                throw new Error(`simulated network failure: ${op} reply lost`);
              }
              return response;
            },
        }),
  });
}

function eventsWithOutages(queue, env) {
  const failing =
    (real) =>
    async (...args) => {
      const { fail } = await ask(env, { op: "fault", kind: "queue_send" });
      if (fail) throw new Error("simulated Queues outage: send failed");
      return real(...args);
    };
  return wrapBinding(queue, { send: failing, sendBatch: failing });
}

function locationEnv(env) {
  return wrapEnv(env, {
    SESSIONS: (kv) => simulatedKv(kv, env),
    ACCOUNTS: (namespace) => accountsWithLostReplies(namespace, env),
    EVENTS: (queue) => (queue ? eventsWithOutages(queue, env) : queue),
  });
}

export class AccountSessions extends InnerAccountSessions {
  constructor(state, env) {
    super(state, locationEnv(env));
  }
}

export default {
  fetch: (request, env, ctx) => SessionsWorker.fetch(request, locationEnv(env), ctx),
  queue: (batch, env, ctx) => SessionsWorker.queue(batch, locationEnv(env), ctx),
};
