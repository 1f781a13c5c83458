// The simulator's fault plan: which binding calls fail, hang or lose their reply. Drawn
// from the run's seeded random numbers in the order the calls arrive.

/** A small seeded generator (mulberry32): the same seed gives the same numbers. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (items) => items[Math.floor(next() * items.length)],
    chance: (p) => next() < p,
    between: (lo, hi) => lo + next() * (hi - lo),
  };
}

export class FaultPlan {
  /**
   * `kvFailRate`, `kvHangRate`: the share of KV writes and deletes that fail, or hang for
   * `kvHangMs` before they land. `replyLossRate`: the share of Durable Object replies lost
   * (per command; `touch` never, so steady use stays the model's to judge).
   * `queueOutages`: [startMs, endMs] windows (from `startedAt`) in which queue sends fail.
   */
  constructor({ random, kvFailRate, kvHangRate, kvHangMs, replyLossRate, queueOutages, startedAt, enabled = true }) {
    Object.assign(this, { random, kvFailRate, kvHangRate, kvHangMs, replyLossRate, queueOutages, startedAt, enabled });
    this.injected = { kv_write_failed: 0, kv_write_hung: 0, do_reply_lost: 0, queue_send_failed: 0 };
    this.lostReplies = [];
  }

  kvWrite(kind, key) {
    if (!this.enabled) return {};
    const r = this.random.next();
    if (r < this.kvFailRate) {
      this.injected.kv_write_failed++;
      return { fail: true };
    }
    if (r < this.kvFailRate + this.kvHangRate) {
      this.injected.kv_write_hung++;
      return { hangMs: this.kvHangMs };
    }
    return {};
  }

  loseReply(command) {
    if (!this.enabled || command === "touch" || command === "verify" || command === "list") return false;
    if (!this.random.chance(this.replyLossRate)) return false;
    this.injected.do_reply_lost++;
    this.lostReplies.push({ command, at: Date.now() });
    return true;
  }

  queueSendFails() {
    if (!this.enabled) return false;
    const t = Date.now() - this.startedAt;
    const failing = this.queueOutages.some(([from, to]) => t >= from && t < to);
    if (failing) this.injected.queue_send_failed++;
    return failing;
  }
}
