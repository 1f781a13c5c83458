// The fleet simulation (scripts/simulate.mjs) as a test: a short run of a few fixed
// seeds, each several locations of the built worker over one Durable Object namespace,
// with lagging KV and faults at the bindings. Every invariant must hold on every answer.
// Seeds that once found a violation stay in SEEDS as regression cases.

import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../fleet/simulation.mjs";
import { formatReport, mergeReports } from "../fleet/report.mjs";

// 2 once lost events across the cut-off's redeploy (a fault of the simulator's, fixed
// there). Seeds that found other things are listed in docs/fleet-simulation.md; they
// need 30 s runs, too long for this suite.
const SEEDS = [1, 2, 3];
const reports = [];

for (const seed of SEEDS) {
  test(`fleet simulation, seed ${seed}: no invariant is violated`, async () => {
    const report = await simulate({ seed, seconds: 18 });
    reports.push(report);
    console.log(formatReport(report));
    assert.deepEqual(report.violations, []);
  });
}

test("the short run exercised every invariant but resurrection and claims (too rare in 18 s)", () => {
  const merged = mergeReports(reports);
  for (const n of ["1 ", "2 ", "4 ", "5 ", "6 "]) {
    const [name, { checks }] = Object.entries(merged.invariants).find(([k]) => k.startsWith(n));
    assert.ok(checks > 0, `${name}: no checks`);
  }
  assert.ok(merged.lags_secs.cutoff, "the cut-off was probed");
});
