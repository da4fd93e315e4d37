/**
 * Runs a child process under a memory limit like a Cloud Run instance's, so
 * that benchmarks and stress tests measure the function as deployed: Node
 * sizes its V8 heap from the memory it is constrained to (a 512 MiB
 * instance gets a ~259 MiB heap limit; on an unconstrained 24 GB machine it
 * is ~4 GiB, and the heap grows lazily towards it).
 *
 * Where this machine lets us create a memory cgroup (v2, or v1's memory
 * controller; root in a container usually can), the child is started inside
 * a fresh one with that limit: the kernel enforces it and Node reads it.
 * Otherwise the child gets the heap limits Node would have derived
 * (`--max-old-space-size`, `--max-semi-space-size`, first in NODE_OPTIONS),
 * and `kind` says so.
 */

import {existsSync, mkdirSync, rmdirSync, writeFileSync} from 'node:fs';
import * as path from 'node:path';

export interface MemoryLimit {
  limitMiB: number;
  /** 'cgroup': enforced by the kernel; 'heap-flag': the V8 heap bound only. */
  kind: 'cgroup' | 'heap-flag';
  /** Wraps a command so that it starts under the limit (the cgroup). */
  wrap(command: string, args: string[]): {command: string; args: string[]};
  /**
   * Node flags to put first in NODE_OPTIONS (the heap flags): flags given
   * after them, like a deployment's own NODE_OPTIONS, still win, as they
   * win over what Node derives under a cgroup.
   */
  nodeOptions: string[];
  /** Removes the cgroup (after the process has exited). */
  remove(): void;
}

const V2_ROOT = '/sys/fs/cgroup';
const V1_ROOT = '/sys/fs/cgroup/memory';

function tryCgroup(limitMiB: number): {dir: string} | undefined {
  const name = `pittgoogle-${process.pid}-${Date.now().toString(36)}`;
  const bytes = String(limitMiB * 1024 * 1024);
  const attempts: Array<[string, string]> = [
    [V2_ROOT, 'memory.max'],
    [V1_ROOT, 'memory.limit_in_bytes'],
  ];
  for (const [root, file] of attempts) {
    // v2: the root lists its controllers; v1: the memory hierarchy exists.
    if (root === V2_ROOT && !existsSync(path.join(root, 'cgroup.controllers')))
      continue;
    if (root === V1_ROOT && !existsSync(path.join(root, file))) continue;
    const dir = path.join(root, name);
    try {
      mkdirSync(dir);
      writeFileSync(path.join(dir, file), bytes);
      return {dir};
    } catch {
      try {
        rmdirSync(dir);
      } catch {
        // never created
      }
    }
  }
  return undefined;
}

/**
 * The V8 heap Node 22 configures under a constrained memory: an old
 * generation of half of it and a small young generation (measured: 512 MiB
 * → a 259 MiB heap limit, 256 old + 3 young, i.e. 1 MiB semi-spaces).
 */
export function heapLimitMiBFor(limitMiB: number): number {
  return Math.round(limitMiB / 2);
}

function heapFlags(limitMiB: number): string[] {
  const old = heapLimitMiBFor(limitMiB);
  return [
    `--max-old-space-size=${old}`,
    `--max-semi-space-size=${Math.max(1, Math.round(old / 256))}`,
  ];
}

export function memoryLimit(
  limitMiB: number,
  opts: {cgroup?: boolean} = {},
): MemoryLimit {
  const cgroup = opts.cgroup === false ? undefined : tryCgroup(limitMiB);
  if (cgroup) {
    const procs = path.join(cgroup.dir, 'cgroup.procs');
    return {
      limitMiB,
      kind: 'cgroup',
      // The shell joins the cgroup, then becomes the command (same pid).
      wrap: (command, args) => ({
        command: '/bin/sh',
        args: [
          '-c',
          `echo $$ > '${procs}' && exec "$@"`,
          'sh',
          command,
          ...args,
        ],
      }),
      nodeOptions: [],
      // Right after the exit the cgroup can still be busy for a moment.
      remove: () => {
        let tries = 0;
        const attempt = () => {
          try {
            rmdirSync(cgroup.dir);
          } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            if (code !== 'ENOENT' && ++tries < 20)
              setTimeout(attempt, 100).unref();
          }
        };
        attempt();
      },
    };
  }
  return {
    limitMiB,
    kind: 'heap-flag',
    wrap: (command, args) => ({command, args}),
    nodeOptions: heapFlags(limitMiB),
    remove: () => {},
  };
}
