/**
 * What a CLI command module provides. To add a command: write
 * `src/cli/<name>-command.ts` exporting a {@link RegisterCommand}, and add it
 * to the list in `src/cli/commands.ts`.
 */

import {Command} from 'commander';

/** Output streams and environment, injectable for tests. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: Record<string, string | undefined>;
  /** Records the process exit code (the highest one set wins). */
  setExitCode(code: number): void;
}

export type RegisterCommand = (program: Command, io: CliIo) => void;

export function processIo(): CliIo {
  return {
    out: line => process.stdout.write(line + '\n'),
    err: line => process.stderr.write(line + '\n'),
    env: process.env,
    setExitCode: code => {
      process.exitCode = Math.max(Number(process.exitCode ?? 0), code);
    },
  };
}
