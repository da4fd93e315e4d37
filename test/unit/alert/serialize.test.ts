import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {toJsonSafe, toJsonText} from '../../../src/alert/serialize';

describe('toJsonText', () => {
  it('writes the same JSON as toJsonSafe, exactly, in one pass', () => {
    const bytes = Buffer.from('ZTF cutout bytes');
    const value = {
      candid: 2982177112815010003n,
      negative: -9007199254740993n,
      flux: Number.NaN,
      limit: Number.NEGATIVE_INFINITY,
      mag: 18.25,
      label: 'é "quoted"',
      flag: true,
      none: null,
      stamp: bytes,
      view: new Uint8Array(bytes.buffer, bytes.byteOffset + 4, 6),
      history: [{candid: 1n, jd: 2460281.5}, null, [1n, [2n]]],
    };
    const text = toJsonText(value);
    assert.equal(text, JSON.stringify(toJsonSafe(value)));
    const back = JSON.parse(text);
    assert.equal(back.candid, '2982177112815010003');
    assert.equal(back.negative, '-9007199254740993');
    assert.equal(back.flux, null);
    assert.equal(back.limit, null);
    assert.equal(back.stamp, bytes.toString('base64'));
    assert.equal(Buffer.from(back.view, 'base64').toString(), 'cutout');
    assert.deepEqual(back.history[2], ['1', ['2']]);
  });

  it('writes null for a missing value and bigints at the top level', () => {
    assert.equal(toJsonText(undefined), 'null');
    assert.equal(toJsonText(null), 'null');
    assert.equal(toJsonText(12345678901234567890n), '"12345678901234567890"');
  });
});
