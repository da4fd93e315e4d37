import {strict as assert} from 'node:assert';
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';

import {CliIo} from '../../../src/cli/command';
import {buildProgram} from '../../../src/cli/main';
import {generateZtfPacket} from '../../helpers';

function memoryIo(): CliIo & {
  stdout: string[];
  stderr: string[];
  code: number;
} {
  const io = {
    stdout: [] as string[],
    stderr: [] as string[],
    code: 0,
    env: {},
    out: (l: string) => io.stdout.push(l),
    err: (l: string) => io.stderr.push(l),
    setExitCode: (c: number) => {
      io.code = Math.max(io.code, c);
    },
  };
  return io;
}

async function cli(args: string[]) {
  const io = memoryIo();
  await buildProgram(io).parseAsync(['node', 'pittgoogle', ...args]);
  return io;
}

describe('pittgoogle filter test', () => {
  let dir: string;
  let alerts: string;
  const ids = ['ZTF20aaaaaaa', 'ZTF20bbbbbbb', 'ZTF20ccccccc', 'ZTF20ddddddd'];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'filter-cli-'));
    alerts = join(dir, 'alerts');
    await mkdir(alerts);
    for (let i = 0; i < ids.length; i++) {
      const p = generateZtfPacket({
        seed: i + 1,
        objectId: ids[i],
        candid: 3000000000000000001n + BigInt(i),
      });
      await writeFile(join(alerts, `alert-${i}.avro`), p.bytes);
    }
  });
  after(() => rm(dir, {recursive: true, force: true}));

  it('prints PASS/FAIL per alert and the selectivity', async () => {
    const f = join(dir, 'f.json');
    await writeFile(
      f,
      JSON.stringify({field: 'objectId', op: 'in', value: [ids[0], ids[2]]}),
    );
    const io = await cli(['filter', 'test', f, alerts]);
    assert.equal(io.code, 0);
    assert.deepEqual(
      io.stdout.map(l => l.split(' ').slice(0, 3).join(' ')),
      [
        `PASS ${ids[0]} 3000000000000000001`,
        `FAIL ${ids[1]} 3000000000000000002`,
        `PASS ${ids[2]} 3000000000000000003`,
        `FAIL ${ids[3]} 3000000000000000004`,
        'selectivity: 2/4 passed',
      ],
    );
    assert.equal(io.stdout.at(-1), 'selectivity: 2/4 passed (50.0%)');
    assert.match(io.stderr.join('\n'), /server-side: nothing/);
  });

  it('explains, takes attributes, and reports the server-side part', async () => {
    const f = join(dir, 'g.json');
    await writeFile(
      f,
      JSON.stringify({
        all: [
          {field: 'attributes.fid', op: 'eq', value: '1'},
          {field: 'sourceId', op: 'eq', value: '3000000000000000004'},
        ],
      }),
    );
    const io = await cli([
      'filter',
      'test',
      '--explain',
      '--ztf-attributes',
      '--attr',
      'fid=1',
      f,
      join(alerts, 'alert-3.avro'),
    ]);
    assert.equal(io.code, 0);
    assert.deepEqual(io.stdout, [
      `PASS ${ids[3]} 3000000000000000004 ${join(alerts, 'alert-3.avro')}`,
      '  + $.all[0] attributes.fid eq "1" (value: "1")',
      '  + $.all[1] sourceId eq "3000000000000000004" (value: "3000000000000000004")',
      'selectivity: 1/1 passed (100.0%)',
    ]);
    assert.match(
      io.stderr[0],
      /^server-side: attributes\.fid = "1" AND attributes\.candid = "3000000000000000004"$/m,
    );
  });

  it('refuses an invalid filter with the JSON path, and reports undecodable files', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(
      bad,
      '{"all": [{"field": "mag", "op": "lt", "value": "19"}]}',
    );
    const io = await cli(['filter', 'test', bad, dir]);
    assert.equal(io.code, 1);
    assert.deepEqual(io.stdout, []);
    assert.match(
      io.stderr.join('\n'),
      /\$\.all\[0\]\.value: expected a finite number/,
    );

    const ok = join(dir, 'ok.json');
    await writeFile(ok, 'null');
    const junk = join(dir, 'junk.bin');
    await writeFile(junk, 'not an alert');
    const io2 = await cli([
      'filter',
      'test',
      ok,
      junk,
      join(alerts, 'alert-0.avro'),
    ]);
    assert.equal(io2.code, 1);
    assert.match(io2.stderr.join('\n'), /junk\.bin: permanent unknown-format/);
    assert.equal(io2.stdout.at(-1), 'selectivity: 1/1 passed (100.0%)');
  });
});
