// The workerd processes this process started (one per Miniflare), read from /proc: which
// they are, the CPU time each has used, and pinning one to a core. Shared by the
// benchmark (bench/run.mjs) and the startup measure (bench/startup.mjs).

import os from "node:os";
import { readFileSync, readdirSync } from "node:fs";
import { execSync } from "node:child_process";

const CLK_TCK = Number(execSync("getconf CLK_TCK").toString().trim()) || 100;

/** workerd processes that are children of this process. */
export function workerdPids() {
  const pids = new Set();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (stat.includes("(workerd)") && Number(fields[1]) === process.pid) pids.add(Number(entry));
    } catch {
      // the process went away
    }
  }
  return pids;
}

/** utime + stime of a process (every thread, live or exited), in seconds; /proc counts in ticks of 1/CLK_TCK s. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/**
 * On-CPU time of a process's live threads, in seconds, from /proc/<pid>/task/<tid>/schedstat
 * (nanoseconds, so finer than `cpuSeconds`' ticks, but a thread that has exited is not counted).
 */
export function threadCpuSeconds(pid) {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread exited
    }
  }
  return ns / 1e9;
}

/**
 * Pins a measured workerd process (all its threads) to the last CPU, and this process
 * (the load generator) to the first, when there are two or more: on a small machine
 * the two otherwise trade places on both cores and the CPU per request swings by a
 * third from run to run.
 */
export function pin(pid) {
  const cpus = os.cpus().length;
  if (cpus < 2 || !pid) return;
  try {
    execSync(`taskset -a -pc ${cpus - 1} ${pid}`, { stdio: "ignore" });
    execSync(`taskset -a -pc 0-${cpus - 2} ${process.pid}`, { stdio: "ignore" });
  } catch {
    // no taskset: measure unpinned
  }
}
