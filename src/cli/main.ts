#!/usr/bin/env node
/** The `pittgoogle` command line. Commands live in their own modules (see commands.ts). */

// First, before @google-cloud/firestore loads (see the module).
import '../store/firestore-require-cache';

import {Command} from 'commander';

import {CliIo, processIo} from './command';
import {COMMANDS} from './commands';

export function buildProgram(io: CliIo = processIo()): Command {
  const program = new Command('pittgoogle')
    .description(
      'Pitt-Google broker alerts (ZTF, LSST) into your own Google Cloud project',
    )
    .showHelpAfterError()
    .configureOutput({
      writeOut: s => io.out(s.replace(/\n$/, '')),
      writeErr: s => io.err(s.replace(/\n$/, '')),
    });
  for (const register of COMMANDS) register(program, io);
  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch(e => {
      process.stderr.write(
        `pittgoogle: ${e instanceof Error ? e.message : String(e)}\n`,
      );
      process.exitCode = 1;
    });
}
