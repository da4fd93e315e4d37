/**
 * `pittgoogle start` (the `npm start` job) brought up as a child process:
 * the first stored alert line appears, Ctrl-C (SIGINT) stops it, and no
 * process of the emulators or the function is left behind.
 */

import {strict as assert} from 'node:assert';
import {spawn} from 'node:child_process';
import * as path from 'node:path';
import {describe, it} from 'node:test';

import {isPortFree} from '../../src/local/ports';
import {groupMembers} from '../../src/local/process-group';

const CLI = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');

describe('pittgoogle start (local stack)', () => {
  it('stores the first alert within 60 s, and SIGINT stops everything', async () => {
    const t0 = Date.now();
    const child = spawn(
      process.execPath,
      [CLI, 'start', '--rate', '2', '--generate', '6', '--summary-every', '2'],
      {stdio: ['ignore', 'pipe', 'pipe']},
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', d => (stderr += d));
    const exited = new Promise<number | null>(r =>
      child.on('exit', code => r(code)),
    );
    const firstStored = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`no stored alert within 90 s:\n${stdout}\n${stderr}`),
          ),
        90_000,
      );
      child.stdout.on('data', d => {
        stdout += d;
        const m = /^stored (ZTF\S+) (\d+) .*$/m.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve(m[0]);
        }
      });
      void exited.then(code =>
        reject(new Error(`start exited (${code}):\n${stdout}\n${stderr}`)),
      );
    });
    let line: string;
    try {
      line = await firstStored;
    } catch (e) {
      child.kill('SIGKILL');
      throw e;
    }
    const firstMs = Date.now() - t0;
    assert.ok(firstMs < 60_000, `first alert stored after ${firstMs} ms`);
    assert.match(
      line,
      /^stored ZTF\w+ \d{18,19} band [gri] mag \d+\.\d\d classtar (0\.\d{3}|1\.000)$/,
    );

    // The ready block: hosts, process groups and a query command to paste.
    const pgid = (what: string) =>
      Number(
        new RegExp(`${what}.*\\(process group (\\d+)\\)`).exec(stdout)![1],
      );
    const port = (what: string) =>
      Number(
        new RegExp(`${what}\\s+(?:http://)?127\\.0\\.0\\.1:(\\d+)`).exec(
          stdout,
        )![1],
      );
    const groups = {
      pubsub: pgid('Pub/Sub emulator'),
      firestore: pgid('Firestore emulator'),
      ingest: pgid('ingest function'),
      manage: pgid('manage function'),
    };
    const ports = [
      port('manage function'),
      port('Pub/Sub emulator'),
      port('Firestore emulator'),
      port('ingest function'),
    ];
    assert.match(
      stdout,
      /npx pittgoogle query --firestore-host 127\.0\.0\.1:\d+ --project local-project --subscription ztf-loop/,
    );
    assert.match(stdout, /filter\s+classtar_gt_lt=gt, classtar_threshold=0\.5/);
    // Created through the management function (PUT /subscriptions/ztf-loop).
    assert.match(
      stdout,
      /subscription\s+ztf-loop in project local-project: created subscription ztf-loop on projects\/ardent-cycling-243415\/topics\/ztf-loop/,
    );
    for (const g of Object.values(groups))
      assert.ok(groupMembers(g).length > 0);

    // The explorer line (a contract), and its read API answering (checked
    // after the stop, so that a failure leaves no process behind).
    const explorer = /^ {2}explorer {12}(http:\/\/127\.0\.0\.1:(\d+)\/)$/m.exec(
      stdout,
    );
    if (explorer) ports.push(Number(explorer[2]));
    const subscriptions = explorer
      ? await fetch(`${explorer[1]}api/subscriptions`)
          .then(async r => ({
            status: r.status,
            names: (
              (await r.json()) as {subscriptions: Array<{name: string}>}
            ).subscriptions.map(s => s.name),
          }))
          .catch(e => ({status: 0, names: [String(e)]}))
      : null;

    // The running summary counts from the function's log lines, a channel
    // apart from the Firestore listener that prints "stored": it can lag a
    // second behind the first stored line.
    const progress = /\[\d+s\] published \d+ stored [1-9]\d* /;
    for (let i = 0; i < 150 && !progress.test(stdout); i++) {
      await new Promise(r => setTimeout(r, 100));
    }
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 0, stderr);
    assert.match(stdout, /stopped: emulators and functions are down/);
    assert.ok(explorer, `the explorer line:\n${stdout}`);
    assert.equal(subscriptions?.status, 200);
    assert.ok(
      subscriptions.names.includes('ztf-loop'),
      subscriptions.names.join(),
    );
    assert.match(stdout, progress);
    for (const [what, g] of Object.entries(groups)) {
      assert.deepEqual(groupMembers(g), [], `${what}: no process left`);
    }
    for (const p of ports)
      assert.equal(await isPortFree(p), true, `port ${p} free`);
  });
});
