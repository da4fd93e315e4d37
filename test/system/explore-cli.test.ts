/**
 * `pittgoogle explore` as a child process against the Firestore emulator:
 * it prints the explorer line, answers the read API on the loopback
 * interface only, and SIGINT stops it.
 */

import {strict as assert} from 'node:assert';
import {spawn} from 'node:child_process';
import * as path from 'node:path';
import {describe, it} from 'node:test';

import {loadConfig} from '../../src/config';
import {createSubscriptionStore} from '../../src/store/subscription-store';
import {useEmulators} from '../helpers/emulator-fixture';

const CLI = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');

describe('pittgoogle explore', () => {
  const emu = useEmulators({firestore: true});

  it('serves the read API of the given Firestore on 127.0.0.1 until SIGINT', async () => {
    const project = emu.uniqueId('explore-cli');
    await createSubscriptionStore(emu.firestore(project), loadConfig({})).put({
      name: 'ztf-loop',
      topic: 'projects/ardent-cycling-243415/topics/ztf-loop',
      filter: {field: 'classtar', op: 'gte', value: 0.5},
      serverFilter: '',
      settings: {},
    });
    const child = spawn(
      process.execPath,
      [
        CLI,
        'explore',
        '--port',
        '0',
        '--firestore-host',
        emu.emulators.firestore!.host,
        '--project',
        project,
      ],
      {stdio: ['ignore', 'pipe', 'pipe']},
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', d => (stderr += d));
    const exited = new Promise<number | null>(r => child.on('exit', r));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no explorer line:\n${stdout}\n${stderr}`)),
          30_000,
        );
        child.stdout.on('data', d => {
          stdout += d;
          const m = /^ {2}explorer {12}(http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(
            stdout,
          );
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
        void exited.then(code =>
          reject(new Error(`exited (${code}):\n${stdout}\n${stderr}`)),
        );
      });
      const res = await fetch(`${url}api/subscriptions`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as {
        subscriptions: Array<Record<string, unknown>>;
      };
      assert.deepEqual(
        body.subscriptions.map(s => [s.name, s.filterText, s.counts]),
        [['ztf-loop', 'classtar is at least 0.5', {alerts: 0, quarantined: 0}]],
      );
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, stderr);
  });
});
