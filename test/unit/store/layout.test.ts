/**
 * The storage layout's keys (src/store/layout.ts): document ids that scatter
 * real, consecutive source ids over the key space, shards that spread object
 * ids, and the way back from a document id to its source id.
 *
 * The ids follow the real packets' structure:
 * - ZTF `candid` (e.g. 2982177112815010003, a shipped sample): the processing
 *   id of the exposure and readout channel (nid, exposure, channel), then a
 *   sequence within the channel; an exposure's candids share their first 11
 *   digits, a channel's their first 13.
 * - LSST `diaSourceId` (e.g. 281323062375219200, a shipped sample):
 *   0x3e775d5b0000000, a visit/detector prefix in the high bits and the
 *   source's sequence in the low 28 bits.
 * - ZTF object ids are handed out in order of first detection
 *   (`ZTF` + year + seven letters counting up); LSST `diaObjectId`s are
 *   packed like the source ids.
 */

import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {
  ALERT_SHARDS,
  alertDocumentId,
  alertShard,
  checkDocumentIds,
  sourceIdOfDocumentId,
} from '../../../src/store/layout';

/** 10,000 consecutive candids of one exposure's channel (worst case: one 13-digit prefix). */
const ztfOneChannel = Array.from({length: 10_000}, (_, i) =>
  (2982177112815n * 1_000_000n + 10_000n + BigInt(i)).toString(),
);

/** 10,000 candids of one exposure: 64 channels × 157 consecutive sequence numbers. */
const ztfOneExposure = Array.from({length: 10_000}, (_, i) => {
  const channel = BigInt(1 + (i % 64));
  const seq = BigInt(Math.floor(i / 64));
  return (
    29821771128n * 100_000_000n +
    channel * 1_000_000n +
    10_000n +
    seq
  ).toString();
});

/** 10,000 consecutive diaSourceIds of one visit/detector. */
const lsstOneDetector = Array.from({length: 10_000}, (_, i) =>
  ((0x3e775d5bn << 28n) + BigInt(i)).toString(),
);

/** 10,000 ZTF object ids in discovery order: ZTF24aaaaaaa, ZTF24aaaaaab, ... */
const ztfObjects = Array.from({length: 10_000}, (_, i) => {
  let n = i;
  let letters = '';
  for (let k = 0; k < 7; k++) {
    letters = String.fromCharCode(97 + (n % 26)) + letters;
    n = Math.floor(n / 26);
  }
  return `ZTF24${letters}`;
});

const lsstObjects = Array.from({length: 10_000}, (_, i) =>
  ((0x3e775d5bn << 28n) + 1n + BigInt(i)).toString(),
);

/** Counts per bucket. */
function histogram(keys: string[], bucket: (k: string) => number, n: number) {
  const counts = new Array<number>(n).fill(0);
  for (const k of keys) counts[bucket(k)]++;
  return counts;
}

/** Pearson's chi-square statistic against the uniform distribution. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
}

/** Largest relative deviation of a bucket from its uniform share. */
function maxDeviation(counts: number[]): number {
  const expected = counts.reduce((a, b) => a + b, 0) / counts.length;
  return Math.max(...counts.map(c => Math.abs(c - expected) / expected));
}

/** The key-range bucket of a document id: its first hex digit (16 ranges). */
const firstHexDigit = (id: string) => parseInt(id[0], 16);

// Critical values of chi-square at p = 0.001: a uniform hash fails them once
// in a thousand; sequential keys fail them by orders of magnitude.
const CHI2_999 = {15: 37.7, 7: 24.3} as const;

describe('alert document ids (layout.ts)', () => {
  for (const [what, ids] of [
    ['10,000 consecutive ZTF candids of one channel', ztfOneChannel],
    ['10,000 ZTF candids of one exposure (64 channels)', ztfOneExposure],
    ['10,000 consecutive LSST diaSourceIds of one detector', lsstOneDetector],
  ] as const) {
    it(`spreads ${what} uniformly over 16 key ranges`, () => {
      const docIds = ids.map(alertDocumentId);
      const counts = histogram(docIds, firstHexDigit, 16);
      assert.ok(
        chiSquare(counts) < CHI2_999[15],
        `chi-square ${chiSquare(counts).toFixed(1)}: ${counts}`,
      );
      // 625 expected per range; one standard deviation is ~3.9 %.
      assert.ok(maxDeviation(counts) < 0.12, `per range: ${counts}`);
      // The source ids themselves sit in one range: what the layout avoids.
      const raw = histogram([...ids], k => parseInt(k[0], 10), 10);
      assert.equal(Math.max(...raw), ids.length);
      // Consecutive ids land far apart: no two neighbours share a range
      // more often than chance (1/16).
      let neighbours = 0;
      for (let i = 1; i < docIds.length; i++) {
        if (docIds[i][0] === docIds[i - 1][0]) neighbours++;
      }
      assert.ok(neighbours / docIds.length < 0.09, `${neighbours}`);
    });
  }

  it('is deterministic, distinct per source id, and leads back to the exact source id', () => {
    const ids = [...ztfOneChannel, ...lsstOneDetector];
    const docIds = ids.map(alertDocumentId);
    assert.equal(new Set(docIds).size, ids.length);
    assert.deepEqual(ids.map(alertDocumentId), docIds);
    for (let i = 0; i < ids.length; i += 97) {
      assert.notEqual(docIds[i], ids[i]);
      assert.equal(sourceIdOfDocumentId(docIds[i]), ids[i]);
    }
    const big = '18446744073709551557'; // above 2^64 - 64: never a JS number
    assert.equal(sourceIdOfDocumentId(alertDocumentId(big)), big);
    assert.match(alertDocumentId(big), /^[0-9a-f]{16}-18446744073709551557$/);
  });

  it('tells ids of the old layout (the source id itself) and forged ids apart', () => {
    assert.equal(sourceIdOfDocumentId('2982177112815010003'), null);
    assert.equal(sourceIdOfDocumentId(''), null);
    const real = alertDocumentId('2982177112815010003');
    assert.equal(
      sourceIdOfDocumentId(real.replace(/^./, c => (c === '0' ? '1' : '0'))),
      null,
    );
    assert.equal(
      sourceIdOfDocumentId(`${real.slice(0, 17)}2982177112815010004`),
      null,
    );
  });
});

describe('alert shards (layout.ts)', () => {
  for (const [what, ids] of [
    ['10,000 ZTF object ids in discovery order', ztfObjects],
    ['10,000 consecutive LSST diaObjectIds', lsstObjects],
  ] as const) {
    it(`spreads ${what} uniformly over the ${ALERT_SHARDS} shards`, () => {
      const counts = histogram([...ids], alertShard, ALERT_SHARDS);
      assert.ok(
        chiSquare(counts) < CHI2_999[7],
        `chi-square ${chiSquare(counts).toFixed(1)}: ${counts}`,
      );
      // 1,250 expected per shard; one standard deviation is ~2.6 %.
      assert.ok(maxDeviation(counts) < 0.08, `per shard: ${counts}`);
    });
  }

  it('gives every alert of an object the same shard, an integer in range', () => {
    for (const id of ztfObjects.slice(0, 500)) {
      const s = alertShard(id);
      assert.ok(Number.isInteger(s) && s >= 0 && s < ALERT_SHARDS);
      assert.equal(alertShard(id), s);
    }
  });

  it('refuses source ids that are not document ids on their own, and bad subscription names', () => {
    assert.equal(
      checkDocumentIds('ztf-loop', '2982177112815010003'),
      alertDocumentId('2982177112815010003'),
    );
    for (const bad of [
      '',
      '__x__',
      '../x',
      'a/b',
      '.',
      '..',
      '9'.repeat(1500),
    ]) {
      assert.throws(
        () => checkDocumentIds('ztf-loop', bad),
        (e: Error & {code?: string}) => e.code === 'invalid-alert',
        JSON.stringify(bad.slice(0, 20)),
      );
    }
    assert.throws(
      () => checkDocumentIds('__x__', '1'),
      (e: Error & {code?: string}) => e.code === 'invalid-name',
    );
  });
});
