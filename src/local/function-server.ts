/**
 * Serves one of this package's functions with the real functions framework
 * CLI in a child process (as Cloud Functions does), on a free loopback port.
 * Used by the local stack, tests and benchmarks. The child's stdout (one JSON
 * log line per event) is parsed and handed to `onLog`.
 */

import {ChildProcess, spawn} from 'node:child_process';
import * as path from 'node:path';
import {createInterface} from 'node:readline';

import {findFreePort, httpStatus, LOOPBACK} from './ports';

export interface FunctionServerOptions {
  /** Entry point registered in src/functions/index.ts: 'ingest' or 'manage'. */
  target: string;
  /** Environment of the function (merged over a minimal PATH/HOME). */
  env: Record<string, string | undefined>;
  port?: number;
  /** Each JSON log line of the function. */
  onLog?: (entry: Record<string, unknown>) => void;
  /** Lines that are not JSON (framework messages, crashes). */
  onOutput?: (line: string) => void;
  /** How long to wait until it answers (ms). */
  startTimeoutMs?: number;
}

export interface FunctionServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once (fault tests). */
  kill(): Promise<void>;
}

/** The package root (this file is build/src/local/function-server.js). */
const ROOT = path.resolve(__dirname, '..', '..', '..');

export async function startFunctionServer(
  opts: FunctionServerOptions,
): Promise<FunctionServer> {
  const port = opts.port ?? (await findFreePort());
  // The framework's CLI (its package `bin`), beside its index module.
  const cli = path.join(
    path.dirname(
      require.resolve('@google-cloud/functions-framework', {paths: [ROOT]}),
    ),
    'main.js',
  );
  const child: ChildProcess = spawn(
    process.execPath,
    [
      cli,
      `--target=${opts.target}`,
      `--source=${path.join(ROOT, 'build', 'src', 'functions', 'index.js')}`,
      `--port=${port}`,
      '--signature-type=http',
    ],
    {
      env: {PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env},
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const recent: string[] = [];
  const onLine = (line: string) => {
    recent.push(line);
    if (recent.length > 30) recent.shift();
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
  const exited = new Promise<number | null>(resolve =>
    child.once('exit', code => resolve(code)),
  );
  let done = false;
  void exited.then(() => (done = true));

  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  for (;;) {
    if (done) {
      throw new Error(
        `the ${opts.target} function exited while starting:\n${recent.join('\n')}`,
      );
    }
    if ((await httpStatus(port, LOOPBACK, 500)) !== undefined) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `the ${opts.target} function did not answer on port ${port}:\n${recent.join('\n')}`,
      );
    }
    await new Promise(r => setTimeout(r, 100));
  }

  const signal = async (sig: NodeJS.Signals, graceMs: number) => {
    if (done) return;
    child.kill(sig);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return {
    url: `http://${LOOPBACK}:${port}/`,
    port,
    pid: child.pid!,
    exited,
    stop: (graceMs = 3000) => signal('SIGTERM', graceMs),
    kill: () => signal('SIGKILL', 0),
  };
}
