/**
 * pittgoogle publish / fetch / query end to end: the compiled CLI spawned
 * with the pinned node against one emulator pair for the whole file.
 */

import {strict as assert} from 'node:assert';
import {spawn} from 'node:child_process';
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import * as path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {useEmulators} from '../helpers/emulator-fixture';

const CLI = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');
const emu = useEmulators({pubsub: true, firestore: true});

function run(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        ...process.env,
        PUBSUB_EMULATOR_HOST: emu.emulators.pubsub!.host,
        FIRESTORE_EMULATOR_HOST: emu.emulators.firestore!.host,
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => (stdout += d));
    child.stderr.on('data', d => (stderr += d));
    child.on('error', reject);
    child.on('close', code => resolve({code, stdout, stderr}));
  });
}

const table = (stdout: string) =>
  Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map(l => /^(\S+(?: \S+)?)\s{2,}(.*)$/.exec(l))
      .filter(m => m !== null)
      .map(m => [m![1], m![2]]),
  );

describe('pittgoogle publish / fetch / query (CLI, emulators)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cli-harness-'));
  });
  after(() => rm(dir, {recursive: true, force: true}));

  it('every command has --help with an example', async () => {
    for (const cmd of ['start', 'fetch', 'publish', 'query']) {
      const r = await run([cmd, '--help']);
      assert.equal(r.code, 0, cmd);
      assert.match(r.stdout, /Examples:\n\s+\$ (pittgoogle|npm start)/, cmd);
    }
  });

  it('publish → fetch into Firestore (bounded) → query finds exactly the stored alerts', async () => {
    const project = emu.uniqueId('proj');
    const env = {GOOGLE_CLOUD_PROJECT: project, PITTGOOGLE_PROJECT: 'pg-cli'};
    const name = emu.uniqueId('loop');
    // The subscription must exist before publishing: create it with a fetch that times out.
    const empty = await run(
      [
        'fetch',
        '--subscription',
        name,
        '--timeout',
        '0.5',
        '--json',
        '--no-progress',
      ],
      env,
    );
    assert.equal(empty.code, 1, 'the topic does not exist yet');
    assert.match(
      empty.stderr,
      /topic-not-found: the Pitt-Google topic projects\/pg-cli\/topics\/.* does not exist/,
    );

    const pub0 = await run(
      [
        'publish',
        '--topic',
        name,
        '--create-topic',
        '--generate',
        '1',
        '--no-progress',
      ],
      env,
    );
    assert.equal(pub0.code, 0, pub0.stderr);
    const created = await run(
      [
        'fetch',
        '--subscription',
        name,
        '--timeout',
        '0.5',
        '--json',
        '--no-progress',
      ],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /created subscription/);

    const pub = await run(
      [
        'publish',
        '--topic',
        name,
        '--generate',
        '12',
        '--seed',
        '40',
        '--rate',
        '100',
      ],
      env,
    );
    assert.equal(pub.code, 0, pub.stderr);
    assert.match(
      pub.stderr,
      new RegExp(`published 12 messages to projects/pg-cli/topics/${name}`),
    );

    const fetched = await run(
      [
        'fetch',
        '--subscription',
        name,
        '--max-results',
        '5',
        '--timeout',
        '10',
      ],
      env,
    );
    assert.equal(fetched.code, 0, fetched.stderr);
    const t = table(fetched.stdout);
    assert.equal(t.counted, '5');
    assert.equal(t.stored, '5');
    assert.equal(t['stopped by'], 'max-results');
    assert.equal(Number(t.received), Number(t.acked) + Number(t.nacked));
    assert.match(t['latency p50'], /ms$/);

    const q = await run(['query', '--subscription', name, '--json'], env);
    assert.equal(q.code, 0, q.stderr);
    const rows = q.stdout
      .trim()
      .split('\n')
      .map(l => JSON.parse(l));
    assert.equal(rows.length, 5);
    for (const r of rows) {
      assert.match(r.sourceId, /^\d{18,19}$/);
      assert.equal(r.record, undefined);
      assert.equal(r.histories, undefined);
    }
    // By objectId, and a table.
    const one = await run(
      ['query', '--subscription', name, '--object-id', rows[0].objectId],
      env,
    );
    assert.equal(one.code, 0, one.stderr);
    const lines = one.stdout.trim().split('\n');
    assert.match(lines[0], /^objectId\s+sourceId\s+band\s+mag\s+jd\s+time/);
    assert.equal(lines.length, 2);
    assert.ok(lines[1].startsWith(rows[0].objectId));
    // A magnitude range and a band select a subset consistent with the data.
    const band = rows[0].band as string;
    const ranged = await run(
      [
        'query',
        '--subscription',
        name,
        '--band',
        band,
        '--mag-max',
        '30',
        '--json',
      ],
      env,
    );
    assert.equal(ranged.code, 0, ranged.stderr);
    const expected = rows.filter(r => r.band === band).length;
    assert.equal(
      ranged.stdout.trim().split('\n').filter(Boolean).length,
      expected,
    );
    // A time window that ends before the observations finds nothing.
    const none = await run(
      ['query', '--subscription', name, '--until', '2000-01-01', '--json'],
      env,
    );
    assert.equal(none.stdout.trim(), '');

    // The rest (12 published after the subscription was created, minus the
    // acked) is still there for the next fetch: none lost, none leased.
    const rest = await run(
      [
        'fetch',
        '--subscription',
        name,
        '--max-results',
        'none',
        '--timeout',
        '6',
        '--json',
        '--no-progress',
      ],
      env,
    );
    const s = JSON.parse(rest.stdout.trim());
    assert.equal(s.stored + s.duplicates + Number(t.acked), 12);
  });

  it('fetch --jsonl writes passing alerts with --filter; no Firestore needed', async () => {
    const project = emu.uniqueId('proj');
    const name = emu.uniqueId('jsonl');
    const env = {
      GOOGLE_CLOUD_PROJECT: project,
      PITTGOOGLE_PROJECT: 'pg-cli',
      FIRESTORE_EMULATOR_HOST: '',
    };
    const filter = path.join(dir, 'filter.json');
    await writeFile(filter, JSON.stringify({field: 'classtar', op: 'isNull'}));
    assert.equal(
      (
        await run(
          [
            'publish',
            '--topic',
            name,
            '--create-topic',
            '--generate',
            '1',
            '--no-progress',
          ],
          env,
        )
      ).code,
      0,
    );
    assert.equal(
      (
        await run(
          [
            'fetch',
            '--subscription',
            name,
            '--timeout',
            '0.3',
            '--jsonl',
            path.join(dir, 'x.jsonl'),
          ],
          env,
        )
      ).code,
      0,
    );
    // Seeds 0..9: every fifth (seeds 4 and 9) has a null classtar.
    const pub = await run(
      ['publish', '--topic', name, '--generate', '10', '--seed', '0'],
      env,
    );
    assert.equal(pub.code, 0, pub.stderr);
    // Idle timeout of 30 s: the emulator's first delivery to a new streaming
    // pull can take seconds on a loaded machine (6 s was not always enough,
    // and 15 s not once in a full CI run beside the stress suite).
    const out = path.join(dir, 'alerts.jsonl');
    const r = await run(
      [
        'fetch',
        '--subscription',
        name,
        '--max-results',
        'none',
        '--timeout',
        '30',
        '--jsonl',
        out,
        '--filter',
        filter,
      ],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    const t = table(r.stdout);
    assert.equal(t.stored, '2');
    assert.equal(t.filtered, '8');
    const lines = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map(l => JSON.parse(l));
    assert.equal(lines.length, 2);
    for (const l of lines) {
      assert.equal(l.classtar, null);
      assert.equal(l.subscription, name);
      assert.ok(l.attributes['kafka.offset'] !== undefined);
    }
  });

  it('bad bounds are refused with a clear message', async () => {
    const r = await run([
      'fetch',
      '--max-results',
      'none',
      '--timeout',
      'none',
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /never end; bound it by at least one of them/);
    const r2 = await run(['fetch', '--max-results', '0']);
    assert.match(
      r2.stderr,
      /--max-results must be a positive integer or "none"/,
    );
  });
});
