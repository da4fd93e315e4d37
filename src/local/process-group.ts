/**
 * Process groups: a child started with `detached: true` leads its own group,
 * so one signal to `-pgid` reaches every process it started (the gcloud
 * wrapper and the Java emulator it runs). Linux-first: liveness is read from
 * /proc so that zombies (exited, not yet reaped) do not count as alive.
 */

import {readdirSync, readFileSync} from 'node:fs';

/** Pids of the live (non-zombie) members of process group `pgid`. */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    // No /proc (not Linux): fall back to a signal-0 probe of the group.
    return probeGroup(pgid) ? [pgid] : [];
  }
  const members: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
    } catch {
      continue; // exited while we looked
    }
    // Fields after the parenthesised command name: state ppid pgrp ...
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    const pgrp = Number(rest[2]);
    if (pgrp === pgid && state !== 'Z' && state !== 'X') {
      members.push(Number(entry));
    }
  }
  return members;
}

function probeGroup(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Sends `signal` to every process of the group; false when none was left. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** Waits until the group has no live member; false on timeout. */
export async function waitGroupGone(
  pgid: number,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (groupMembers(pgid).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}

/**
 * Stops a whole process group: SIGTERM, then SIGKILL after `graceMs`.
 * Resolves true when no member is left.
 */
export async function killGroup(
  pgid: number,
  graceMs: number,
): Promise<boolean> {
  if (!signalGroup(pgid, 'SIGTERM')) return waitGroupGone(pgid, 1000);
  if (await waitGroupGone(pgid, graceMs)) return true;
  signalGroup(pgid, 'SIGKILL');
  return waitGroupGone(pgid, 5000);
}
