/**
 * src/cutouts/fits.ts against an independent reader: astropy's statistics of
 * every real sample's stamps and of synthetic files (all BITPIX values,
 * BZERO/BSCALE, BLANK, NaN, gzip, a 3-d cube), committed in
 * test/fixtures/stamps/reference.json by reference.py. Then bad input.
 */

import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';
import {gunzipSync, gzipSync} from 'node:zlib';

import {FitsError, FitsImage, readFits} from '../../../src/cutouts/fits';
import {
  loadReference,
  realStamps,
  StampReference,
  syntheticBytes,
} from '../../helpers/stamp-reference';

const close = (a: number, b: number, rel = 1e-9) =>
  Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));

function median(sorted: Float64Array): number {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

function compare(img: FitsImage, ref: StampReference, what: string): void {
  assert.deepEqual([img.height, img.width], ref.shape, `${what}: shape`);
  assert.equal(img.bitpix, ref.bitpix, `${what}: bitpix`);
  assert.equal(img.data.length, img.width * img.height);
  const finite = img.data.filter(v => Number.isFinite(v)).sort();
  assert.equal(img.data.length - finite.length, ref.nanCount, `${what}: NaNs`);
  if (ref.min === null) {
    assert.equal(finite.length, 0, what);
  } else {
    assert.ok(
      close(finite[0], ref.min),
      `${what}: min ${finite[0]} ${ref.min}`,
    );
    assert.ok(
      close(finite[finite.length - 1], ref.max!),
      `${what}: max ${finite[finite.length - 1]} ${ref.max}`,
    );
    // astropy keeps float32 (and scaled 16-bit data) in float32: its
    // median of an even count is a float32 mean.
    assert.ok(
      close(median(finite), ref.median!, 1e-6),
      `${what}: median ${median(finite)} ${ref.median}`,
    );
  }
  for (const [y, x, v] of ref.pixels) {
    const ours = img.data[y * img.width + x];
    if (v === null) assert.ok(Number.isNaN(ours), `${what}: (${x}, ${y})`);
    else assert.ok(close(ours, v), `${what}: (${x}, ${y}) ${ours} ${v}`);
  }
}

describe('readFits against astropy', () => {
  it('reads every real stamp as astropy does (shape, NaN count, min, max, median, pixel order)', async () => {
    const ref = loadReference();
    const stamps = await realStamps();
    assert.ok(stamps.size >= 12, `${stamps.size} real stamps`);
    // The reference covers exactly the stamps of the samples.
    assert.deepEqual(
      ref.stamps.map(s => `${s.sample}/${s.kind}`).sort(),
      [...stamps.keys()].sort(),
    );
    for (const r of ref.stamps) {
      const key = `${r.sample}/${r.kind}`;
      const bytes = stamps.get(key)!;
      assert.equal(bytes[0], 0x1f, `${key}: the packet's stamp is gzipped`);
      const img = readFits(bytes);
      compare(img, r, key);
      assert.equal(img.header.SIMPLE, true);
      assert.equal(img.header.BUNIT, 'DN');
      // The same bytes inflated beforehand read the same.
      assert.deepEqual(readFits(gunzipSync(bytes)).data, img.data);
    }
  });

  it('reads the synthetic files (BITPIX 8, 16, 32, -32, -64, BZERO/BSCALE, BLANK, NaN, gzip, NAXIS3 = 1)', () => {
    const ref = loadReference();
    assert.deepEqual(
      ref.synthetic.map(s => s.bitpix).sort(),
      [-32, -32, -64, 16, 16, 32, 8].sort(),
    );
    for (const r of ref.synthetic)
      compare(readFits(syntheticBytes(r.file)), r, r.file);
    const blank = readFits(syntheticBytes('bitpix16-scaled-blank.fits'));
    assert.equal(blank.header.BSCALE, 0.5);
    assert.equal(blank.header.BLANK, -32768);
  });
});

/** A FITS file from header cards and data bytes (each card padded to 80). */
function fitsFile(
  cards: string[],
  data: Uint8Array = new Uint8Array(0),
): Buffer {
  const text = [...cards, 'END']
    .map(c => {
      assert.ok(c.length <= 80, c);
      return c.padEnd(80);
    })
    .join('');
  const header = Buffer.from(
    text.padEnd(Math.ceil(text.length / 2880) * 2880),
    'latin1',
  );
  const pad = Buffer.alloc((2880 - (data.length % 2880)) % 2880);
  return Buffer.concat([header, data, pad]);
}

const card = (key: string, value: string) =>
  `${key.padEnd(8)}= ${value.padStart(20)}`;

function image(
  bitpix: number,
  width: number,
  height: number,
  extra: string[] = [],
): string[] {
  return [
    card('SIMPLE', 'T'),
    card('BITPIX', String(bitpix)),
    card('NAXIS', '2'),
    card('NAXIS1', String(width)),
    card('NAXIS2', String(height)),
    ...extra,
  ];
}

function floats(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeFloatBE(v, i * 4));
  return b;
}

describe('readFits header and scaling', () => {
  it('parses strings (with quotes), logicals, integers and D exponents; first value of a repeated keyword wins', () => {
    const img = readFits(
      fitsFile(
        image(-32, 2, 1, [
          "OBJECT  = 'it''s a test  ' / comment",
          card('FLAG', 'F'),
          card('EXPTIME', '3.0D1'),
          card('GAIN', '-1.5E-1 / e/ADU'),
          card('EXPTIME', '99'),
          'COMMENT   a comment = no value',
          'HISTORY   made by hand',
          'lowercase= 1',
        ]),
        floats([1, 2]),
      ),
    );
    assert.deepEqual(img.header, {
      SIMPLE: true,
      BITPIX: -32,
      NAXIS: 2,
      NAXIS1: 2,
      NAXIS2: 1,
      OBJECT: "it's a test",
      FLAG: false,
      EXPTIME: 30,
      GAIN: -0.15,
    });
    assert.deepEqual([...img.data], [1, 2]);
  });

  it('applies BZERO/BSCALE to floats too, and BLANK only to integers', () => {
    const f = readFits(
      fitsFile(
        image(-32, 3, 1, [card('BZERO', '10'), card('BSCALE', '2')]),
        floats([1, NaN, -1]),
      ),
    );
    assert.deepEqual([...f.data], [12, NaN, 8]);
    const raw = Buffer.alloc(6);
    raw.writeInt16BE(5, 0);
    raw.writeInt16BE(-1, 2);
    raw.writeInt16BE(7, 4);
    const i = readFits(fitsFile(image(16, 3, 1, [card('BLANK', '-1')]), raw));
    assert.deepEqual([...i.data], [5, NaN, 7]);
  });

  it('accepts data without its final padding', () => {
    const full = fitsFile(image(-32, 2, 2), floats([1, 2, 3, 4]));
    const img = readFits(full.subarray(0, 2880 + 16));
    assert.deepEqual([...img.data], [1, 2, 3, 4]);
  });
});

describe('readFits on bad input', () => {
  const rejects = (bytes: Uint8Array, message: RegExp) =>
    assert.throws(
      () => readFits(bytes),
      (e: unknown) =>
        e instanceof FitsError && message.test((e as Error).message),
    );
  const real = () => syntheticBytes('bitpix8.fits');

  it('garbage, empty, and files that are not FITS', () => {
    rejects(new Uint8Array(0), /empty/);
    rejects(Buffer.from('hello, world'), /truncated FITS header|not a FITS/);
    rejects(Buffer.alloc(2880, 0x41), /not a FITS file/);
    rejects(Buffer.alloc(2880, 0), /not a FITS file/);
    rejects(Buffer.from([0x1f, 0x8b, 1, 2, 3]), /bad gzip data/);
    rejects(
      fitsFile([card('SIMPLE', 'F'), card('BITPIX', '8')]),
      /not a FITS file/,
    );
  });

  it('truncated header, data or gzip stream', () => {
    rejects(real().subarray(0, 200), /truncated FITS header/);
    rejects(real().subarray(0, 1000), /truncated FITS data/);
    rejects(real().subarray(0, 2880 + 100), /truncated FITS data/);
    const gz = gzipSync(real());
    rejects(gz.subarray(0, gz.length - 30), /bad gzip data/);
    rejects(
      Buffer.alloc(2880 * 101, 0).fill(card('SIMPLE', 'T').padEnd(80), 0, 80),
      /no END card/,
    );
  });

  it('unsupported or inconsistent image descriptions', () => {
    rejects(fitsFile(image(64, 2, 2)), /unsupported BITPIX 64/);
    rejects(fitsFile(image(12, 2, 2)), /unsupported BITPIX 12/);
    rejects(
      fitsFile([card('SIMPLE', 'T'), card('BITPIX', '8'), card('NAXIS', '0')]),
      /no image in the primary HDU/,
    );
    rejects(
      fitsFile([
        card('SIMPLE', 'T'),
        card('BITPIX', '8'),
        card('NAXIS', '1'),
        card('NAXIS1', '5'),
      ]),
      /no image/,
    );
    rejects(
      fitsFile([
        card('SIMPLE', 'T'),
        card('BITPIX', '8'),
        card('NAXIS', '3'),
        card('NAXIS1', '2'),
        card('NAXIS2', '2'),
        card('NAXIS3', '2'),
      ]),
      /only 2-d images/,
    );
    rejects(
      fitsFile([card('SIMPLE', 'T'), card('NAXIS', '2')]),
      /BITPIX is missing/,
    );
    rejects(fitsFile(image(8, 2, 2).slice(0, 4)), /NAXIS2 is missing/);
    rejects(fitsFile(image(8, -2, 2)), /bad NAXIS1/);
    rejects(fitsFile(image(8, 0, 2)), /empty image/);
    rejects(fitsFile(image(8, 2.5 as number, 2)), /NAXIS1 is not an integer/);
    rejects(
      fitsFile(image(-32, 2, 1, [card('BSCALE', "'x'")]), floats([1, 2])),
      /BSCALE is not a number/,
    );
  });

  it('refuses absurd sizes before allocating, and bounds what gzip may inflate to', () => {
    rejects(
      fitsFile(image(-64, 100000, 100000)),
      /exceeds the bound of \d+ pixels/,
    );
    rejects(fitsFile(image(8, 2 ** 40, 2 ** 40)), /exceeds the bound/);
    assert.throws(
      () => readFits(syntheticBytes('bitpix8.fits'), {maxPixels: 100}),
      /exceeds the bound of 100 pixels/,
    );
    // 40 MB of zeros gzip to ~40 kB: refused while inflating.
    rejects(gzipSync(Buffer.alloc(40_000_000)), /inflates to more than/);
  });
});
