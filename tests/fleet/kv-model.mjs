// A model of Workers KV as the fleet sees it, held in the simulator's Node process and
// reached by every location's SESSIONS binding (tests/fleet/location-entry.mjs).
//
// What it models, from KV's documented behaviour:
// - a write (put or delete) is visible at the writing location at once, and at every
//   other location `propagationMs` later;
// - a location that has read a key keeps serving what it read (a value, or nothing) for
//   `cacheMs` after the read, whatever was written since;
// - a write at a location replaces that location's cached copy.
// Faults come from `faults` (tests/fleet/faults.mjs): a write can fail (nothing is
// written, the call throws) or hang for a while before it lands.

export class KvModel {
  constructor({ propagationMs, cacheMs, faults, now = () => Date.now() }) {
    this.propagationMs = propagationMs;
    this.cacheMs = cacheMs;
    this.faults = faults;
    this.now = now;
    /** key -> versions, oldest first: { at, location, value, metadata, expiresAt } (value null: a delete) */
    this.history = new Map();
    /** location -> key -> { version, until } */
    this.caches = new Map();
    /** keys whose write or delete failed or hung at least once */
    this.faultedKeys = new Set();
    this.calls = { get: 0, put: 0, delete: 0, list: 0, failed: 0, hung: 0 };
  }

  /** The newest version visible at `location` now (propagation only, no cache). */
  visible(location, key, now) {
    const versions = this.history.get(key);
    if (!versions) return null;
    for (let i = versions.length - 1; i >= 0; i--) {
      const v = versions[i];
      if (v.location === location || v.at + this.propagationMs <= now) return v;
    }
    return null;
  }

  cacheOf(location) {
    let cache = this.caches.get(location);
    if (!cache) this.caches.set(location, (cache = new Map()));
    return cache;
  }

  read(location, key) {
    this.calls.get++;
    const now = this.now();
    const cache = this.cacheOf(location);
    const cached = cache.get(key);
    let version;
    if (cached && cached.until > now) {
      version = cached.version;
    } else {
      version = this.visible(location, key, now);
      cache.set(key, { version, until: now + this.cacheMs });
    }
    if (!version || version.value === null) return null;
    if (version.expiresAt !== null && version.expiresAt <= now) return null;
    return { value: version.value, metadata: version.metadata };
  }

  async write(location, key, value, { expirationTtl, expiration, metadata } = {}) {
    const kind = value === null ? "delete" : "put";
    this.calls[kind]++;
    const fault = this.faults.kvWrite(kind, key);
    if (fault.hangMs) {
      this.calls.hung++;
      this.faultedKeys.add(key);
      await new Promise((resolve) => setTimeout(resolve, fault.hangMs));
    }
    if (fault.fail) {
      this.calls.failed++;
      this.faultedKeys.add(key);
      return { error: `simulated KV ${kind} failure` };
    }
    const now = this.now();
    const expiresAt = expiration ? expiration * 1000 : expirationTtl ? now + expirationTtl * 1000 : null;
    const version = { at: now, location, value, metadata: metadata ?? null, expiresAt };
    let versions = this.history.get(key);
    if (!versions) this.history.set(key, (versions = []));
    versions.push(version);
    if (versions.length > 8) versions.splice(0, versions.length - 8);
    this.cacheOf(location).set(key, { version, until: now + this.cacheMs });
    return { ok: true };
  }

  /** A list sees the newest writes (KV's list is eventually consistent too; the fleet listing is not under test). */
  list(location, { prefix = "", limit = 1000, cursor } = {}) {
    this.calls.list++;
    const now = this.now();
    const names = [...this.history.keys()].filter((k) => k.startsWith(prefix)).sort();
    const start = cursor ? Number(cursor) : 0;
    const keys = [];
    let i = start;
    for (; i < names.length && keys.length < limit; i++) {
      const v = this.visible(location, names[i], now);
      if (!v || v.value === null || (v.expiresAt !== null && v.expiresAt <= now)) continue;
      keys.push({
        name: names[i],
        metadata: v.metadata,
        expiration: v.expiresAt ? Math.floor(v.expiresAt / 1000) : undefined,
      });
    }
    const complete = i >= names.length;
    return { keys, list_complete: complete, cursor: complete ? undefined : String(i) };
  }

  /** The service-binding handler every location's KV wrapper calls. */
  async handle(body) {
    const { op, location, key } = body;
    switch (op) {
      case "get":
        return { entry: this.read(location, key) };
      case "put":
        return this.write(location, key, body.value, body.options);
      case "delete":
        return this.write(location, key, null);
      case "list":
        return this.list(location, body.options);
      default:
        return { error: `unknown op ${op}` };
    }
  }
}
