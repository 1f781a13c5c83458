// The simulation's report as text, and several runs' reports merged into one.

const pad = (s, n) => String(s).padEnd(n);
const fmt = (x) => (x === null || x === undefined ? "-" : x.toFixed(1));

export function formatReport(r) {
  const lines = [];
  lines.push(
    `seed ${r.seed}${r.seeds ? `s ${r.seeds.join(",")}` : ""}: ${r.ok ? "ok" : "VIOLATIONS"}; ${r.requests} requests, ` +
      `${r.sessions_created} sessions, bound ${r.bound_secs} s (KV propagation + cache), ${fmt(r.real_seconds)} s real`,
  );
  lines.push("  invariant                                              checks  violations");
  for (const [name, { checks, violations }] of Object.entries(r.invariants))
    lines.push(`  ${pad(name, 54)} ${pad(checks, 7)} ${violations}`);
  lines.push("  revocation lag (simulated s: last acceptance after the acknowledgement), n / p50 / p99 / max");
  for (const [kind, row] of Object.entries(r.lags_secs).sort()) {
    const cells = ["eventual", "fresh", "strong"].map((k) =>
      row[k] ? `${k} ${row[k].n}/${fmt(row[k].p50)}/${fmt(row[k].p99)}/${fmt(row[k].max)}` : `${k} -`,
    );
    lines.push(`    ${pad(kind, 18)} ${cells.map((c) => pad(c, 28)).join(" ")}`);
  }
  const c = r.claims_lag_secs;
  lines.push(
    `  claims update, stale answers after the acknowledgement: n ${c.n}, p50 ${fmt(c.p50)}, p99 ${fmt(c.p99)}, max ${fmt(c.max)} s`,
  );
  lines.push(
    `  faults injected: ${JSON.stringify(r.faults_injected)}; acceptances past the bound on keys whose KV write faulted: ${r.beyond_bound_under_kv_faults}`,
  );
  lines.push(
    `  statuses ${JSON.stringify(r.statuses)}; events expected ${r.events.expected}, delivered ${r.events.delivered} ` +
      `(${r.events.deliveries} deliveries, ${r.events.unverified} unverified); uncertain tokens ${r.uncertain_tokens}`,
  );
  if (r.cutoff_redeploy_ms) lines.push(`  fleet cut-off: redeploy took ${r.cutoff_redeploy_ms} ms real`);
  for (const v of r.violations.slice(0, 20)) lines.push(`  VIOLATION ${JSON.stringify(v)}`);
  return lines.join("\n");
}

const KEYS = ["n", "p50", "p99", "max"];

export function mergeReports(reports) {
  const invariants = {};
  for (const r of reports)
    for (const [name, v] of Object.entries(r.invariants)) {
      invariants[name] ??= { checks: 0, violations: 0 };
      invariants[name].checks += v.checks;
      invariants[name].violations += v.violations;
    }
  // Percentiles do not merge: the merged row is over every run's raw values.
  const raw = {};
  for (const r of reports)
    for (const [kind, row] of Object.entries(r.lags_raw ?? {}))
      for (const [k, values] of Object.entries(row)) ((raw[kind] ??= {})[k] ??= []).push(...values);
  const summarise = (values) => {
    const s = [...values].sort((a, b) => a - b);
    const at = (p) => (s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : null);
    return { n: s.length, p50: at(50), p99: at(99), max: s.at(-1) ?? null };
  };
  const lags = Object.fromEntries(
    Object.entries(raw).map(([kind, row]) => [
      kind,
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, summarise(v)])),
    ]),
  );
  const claims = summarise(reports.flatMap((r) => r.claims_raw ?? []));
  const sum = (f) => reports.reduce((s, r) => s + f(r), 0);
  const faults = {};
  for (const r of reports) for (const [k, v] of Object.entries(r.faults_injected)) faults[k] = (faults[k] ?? 0) + v;
  const statuses = {};
  for (const r of reports) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  void KEYS;
  return {
    seed: "",
    seeds: reports.map((r) => r.seed),
    ok: reports.every((r) => r.ok),
    requests: sum((r) => r.requests),
    sessions_created: sum((r) => r.sessions_created),
    bound_secs: reports[0].bound_secs,
    real_seconds: sum((r) => r.real_seconds),
    invariants,
    lags_secs: lags,
    claims_lag_secs: claims,
    faults_injected: faults,
    beyond_bound_under_kv_faults: sum((r) => r.beyond_bound_under_kv_faults),
    statuses,
    events: {
      expected: sum((r) => r.events.expected),
      delivered: sum((r) => r.events.delivered),
      deliveries: sum((r) => r.events.deliveries),
      unverified: sum((r) => r.events.unverified),
    },
    uncertain_tokens: sum((r) => r.uncertain_tokens),
    violations: reports.flatMap((r) => r.violations.map((v) => ({ seed: r.seed, ...v }))),
  };
}
