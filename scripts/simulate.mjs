#!/usr/bin/env node
// npm run simulate [-- --seed N | --seeds N,M,... | --count K] [--seconds S] [--locations L]
//                  [--scale X] [--propagation SECS] [--cache SECS] [--no-faults] [--no-cutoff] [--json]
// Runs the fleet simulation (tests/fleet/simulation.mjs) against the built worker
// (build/index.js; `npm run simulate` builds it first) once per seed and prints each invariant with
// its checks and violations, and the revocation lag per kind and route class in
// simulated (real-world) seconds. Exits 1 on any violation. Without a seed, one is drawn
// and printed; pass it back to repeat the run.

import { simulate } from "../tests/fleet/simulation.mjs";
import { formatReport, mergeReports } from "../tests/fleet/report.mjs";

const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const value = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const number = (name) => (value(name) === undefined ? undefined : Number(value(name)));

let seeds;
if (value("seeds")) seeds = value("seeds").split(",").map(Number);
else if (value("seed")) seeds = [Number(value("seed"))];
else {
  const first = number("first") ?? Math.floor(Math.random() * 1e9);
  seeds = Array.from({ length: number("count") ?? 1 }, (_, i) => first + i);
}
const options = Object.fromEntries(
  Object.entries({
    seconds: number("seconds"),
    locations: number("locations"),
    accounts: number("accounts"),
    scale: number("scale"),
    propagationSecs: number("propagation"),
    cacheSecs: number("cache"),
    faults: flag("no-faults") ? false : undefined,
    cutoff: flag("no-cutoff") ? false : undefined,
  }).filter(([, v]) => v !== undefined),
);

const reports = [];
for (const seed of seeds) {
  console.log(`seed ${seed}: running`);
  const report = await simulate({ ...options, seed });
  reports.push(report);
  console.log(flag("json") ? JSON.stringify(report) : formatReport(report));
}
if (reports.length > 1) console.log(formatReport(mergeReports(reports)));
const failed = reports.filter((r) => !r.ok).map((r) => r.seed);
console.log(failed.length ? `FAILED seeds: ${failed.join(", ")}` : `ok: ${seeds.length} seed(s), no violation`);
process.exit(failed.length ? 1 : 0);
