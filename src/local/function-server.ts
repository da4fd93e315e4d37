/**
 * Serves one of this package's functions with the real functions framework
 * CLI in a child process (as Cloud Functions does), on a free loopback port,
 * in its own process group: stop() and the parent's exit take the whole
 * group down. Used by the local stack, tests and benchmarks. Output lines
 * that are JSON (the function's log lines) go to `onLog`, others to
 * `onOutput`; the last ones are kept for error messages.
 */

import {spawn} from 'node:child_process';
import * as path from 'node:path';
import {createInterface} from 'node:readline';

import {TransientError} from '../errors';
import {MemoryLimit, memoryLimit} from './memory-limit';
import {findFreePort, httpStatus, LOOPBACK} from './ports';
import {killGroup, signalGroup} from './process-group';

export interface FunctionServerOptions {
  /** Entry point registered in src/functions/index.ts: 'ingest' or 'manage'. */
  target: string;
  /**
   * The module the framework loads the target from (benchmarks: floors
   * registered with the framework). Default: this package's functions.
   */
  source?: string;
  /** Environment of the function, over the parent's. */
  env: Record<string, string | undefined>;
  port?: number;
  /** Each JSON log line of the function. */
  onLog?: (entry: Record<string, unknown>) => void;
  /** Lines that are not JSON (framework messages, crashes). */
  onOutput?: (line: string) => void;
  /** How long to wait until it answers (ms). */
  startTimeoutMs?: number;
  /** Extra node flags of the child (e.g. --cpu-prof). */
  execArgv?: string[];
  /**
   * A node script to run instead of the framework's CLI (benchmarks: the
   * same pipeline without the framework); it gets PORT and FUNCTION_TARGET
   * like the function and must answer HTTP on that port.
   */
  script?: string;
  /**
   * Run under the memory limit of a deployed instance (MiB; see
   * ./memory-limit.ts): in a memory cgroup where the machine allows it,
   * else with the heap limit Node would derive from it.
   */
  memoryLimitMiB?: number;
}

export interface FunctionServer {
  readonly url: string;
  readonly port: number;
  /** The child's pid, also its process group id. */
  readonly pid: number;
  /** Resolves with the exit code when the process has exited. */
  readonly exited: Promise<number | null>;
  /** The last lines it printed. */
  output(): string;
  /** SIGTERM to the group, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once (fault tests). */
  kill(): Promise<void>;
  /** How `memoryLimitMiB` was applied, when it was asked for. */
  readonly memoryLimit?: MemoryLimit['kind'];
}

/** The package root (this file is build/src/local/function-server.js). */
const ROOT = path.resolve(__dirname, '..', '..', '..');

export async function startFunctionServer(
  opts: FunctionServerOptions,
): Promise<FunctionServer> {
  const port = opts.port ?? (await findFreePort());
  // The framework's CLI (its package `bin`; its `exports` do not expose it),
  // run with this very node (the pinned Node 22), not the shebang's.
  const cli = path.join(
    path.dirname(
      require.resolve('@google-cloud/functions-framework', {paths: [ROOT]}),
    ),
    'main.js',
  );
  const limit =
    opts.memoryLimitMiB !== undefined
      ? memoryLimit(opts.memoryLimitMiB)
      : undefined;
  const argv = [
    ...(opts.execArgv ?? []),
    ...(opts.script
      ? [opts.script]
      : [
          cli,
          `--target=${opts.target}`,
          `--source=${opts.source ?? path.join(ROOT, 'build', 'src', 'functions', 'index.js')}`,
          `--port=${port}`,
          '--signature-type=http',
        ]),
  ];
  const command = limit
    ? limit.wrap(process.execPath, argv)
    : {command: process.execPath, args: argv};
  const child = spawn(command.command, command.args, {
    detached: true,
    // FUNCTION_TARGET as the platform sets it.
    env: {
      ...process.env,
      ...opts.env,
      FUNCTION_TARGET: opts.target,
      PORT: String(port),
      ...(limit?.nodeOptions.length
        ? {
            NODE_OPTIONS: [...limit.nodeOptions, opts.env.NODE_OPTIONS ?? '']
              .join(' ')
              .trim(),
          }
        : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) {
    throw new TransientError(
      'internal',
      `could not start the ${opts.target} function`,
    );
  }
  const killOnExit = () => signalGroup(pid, 'SIGKILL');
  process.on('exit', killOnExit);

  const recent: string[] = [];
  const onLine = (line: string) => {
    recent.push(line);
    if (recent.length > 50) recent.shift();
    if (line.startsWith('{')) {
      try {
        opts.onLog?.(JSON.parse(line));
        return;
      } catch {
        // not JSON after all
      }
    }
    opts.onOutput?.(line);
  };
  createInterface({input: child.stdout!}).on('line', onLine);
  createInterface({input: child.stderr!}).on('line', onLine);
  let done = false;
  const exited = new Promise<number | null>(resolve =>
    child.once('exit', code => {
      done = true;
      limit?.remove();
      resolve(code);
    }),
  );

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 3000) => {
    stopping ??= (async () => {
      await killGroup(pid, graceMs);
      await exited;
      process.removeListener('exit', killOnExit);
    })();
    return stopping;
  };
  const output = () => recent.join('\n');

  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  while ((await httpStatus(port, LOOPBACK, 500)) === undefined) {
    if (done || Date.now() > deadline) {
      await stop(0);
      throw new TransientError(
        'internal',
        `the ${opts.target} function did not start on port ${port}:\n${output()}`,
      );
    }
    await new Promise(r => setTimeout(r, 100));
  }

  return {
    url: `http://${LOOPBACK}:${port}/`,
    port,
    pid,
    exited,
    output,
    stop,
    kill: () => stop(0),
    memoryLimit: limit?.kind,
  };
}
