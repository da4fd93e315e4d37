import {strict as assert} from 'node:assert';
import {readdir, readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, it} from 'node:test';

import {createDecoder} from '../../../src/alert';
import {compileFilter, explain, validateFilter} from '../../../src/filter';
import {samplesDir} from '../../../src/local/samples';

const samples = samplesDir();

describe('filter: on the real ZTF sample packets', () => {
  it('reads raw paths of real decoded records: exact candid, nullable fields, normalized ids', async () => {
    const dir = join(samples, 'ztf');
    const files = (await readdir(dir)).filter(f => f.endsWith('.avro'));
    assert.ok(files.length > 0);
    const decoder = createDecoder();
    for (const file of files) {
      // ztf-v4.02-ZTF17aaarzyp-2982177112815010003.avro
      const [, , objectId, candid] = file.replace(/\.avro$/, '').split('-');
      const [alert] = await decoder.decode(await readFile(join(dir, file)));
      const f = validateFilter({
        all: [
          {field: 'record.candid', op: 'eq', value: candid},
          {field: 'candidate.candid', op: 'eq', value: candid},
          {field: 'sourceId', op: 'eq', value: candid},
          {field: 'objectId', op: 'eq', value: objectId},
          {field: 'candidate.rb', op: 'between', value: [0, 1]},
          {field: 'candidate.fid', op: 'in', value: [1, 2, 3]},
          {field: 'candidate.magpsf', op: 'exists'},
        ],
      });
      const e = explain(f, alert);
      assert.equal(
        e.matches,
        true,
        `${file}: ${JSON.stringify(e.nodes.filter(n => !n.held))}`,
      );
      assert.equal(compileFilter(f).matches(alert), true);
      // one off in the last digit: exact ids tell them apart
      const off =
        candid.slice(0, -1) + String((Number(candid.at(-1)) + 1) % 10);
      assert.equal(
        compileFilter(
          validateFilter({field: 'candidate.candid', op: 'eq', value: off}),
        ).matches(alert),
        false,
      );
    }
  });
});
