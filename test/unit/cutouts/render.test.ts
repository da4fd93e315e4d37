/**
 * src/cutouts/render.ts: zscale limits against astropy's ZScaleInterval for
 * every real stamp (test/fixtures/stamps/reference.json), and PNGs decoded
 * back with pngjs: size, pixel-exact upscaling, north up, the NaN colour,
 * both stretches, bad options.
 */

import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {PNG} from 'pngjs';

import {FitsError, readFits} from '../../../src/cutouts/fits';
import {
  ASINH_A,
  NAN_COLOUR,
  renderImagePng,
  renderStampPng,
  zscale,
} from '../../../src/cutouts/render';
import {
  loadReference,
  realStamps,
  syntheticBytes,
} from '../../helpers/stamp-reference';

/** Agreement to float precision: astropy's median of float32 samples is float32. */
function closeLimit(ours: number, ref: number, span: number): boolean {
  return Math.abs(ours - ref) <= 1e-6 * Math.max(1, Math.abs(ref), span);
}

function decode(png: Buffer): PNG {
  return PNG.sync.read(png);
}

/** RGBA of PNG pixel (x, y), y from the top. */
function rgba(png: PNG, x: number, y: number): number[] {
  const o = (y * png.width + x) * 4;
  return [...png.data.subarray(o, o + 4)];
}

describe('zscale', () => {
  it('agrees with astropy ZScaleInterval on every real stamp', async () => {
    const ref = loadReference();
    const stamps = await realStamps();
    assert.equal(ref.stamps.length, stamps.size);
    let clamped = 0;
    for (const r of ref.stamps) {
      const key = `${r.sample}/${r.kind}`;
      const z = zscale(readFits(stamps.get(key)!).data)!;
      const [lo, hi] = r.zscale!;
      const span = hi - lo;
      assert.ok(closeLimit(z.min, lo, span), `${key}: min ${z.min} vs ${lo}`);
      assert.ok(closeLimit(z.max, hi, span), `${key}: max ${z.max} vs ${hi}`);
      if (lo > r.min! || hi < r.max!) clamped++;
    }
    // The fit, not the data's extremes, sets the limits of real stamps.
    assert.equal(clamped, ref.stamps.length);
  });

  it('agrees with astropy on the synthetic files; null without a finite value', () => {
    for (const r of loadReference().synthetic) {
      const z = zscale(readFits(syntheticBytes(r.file)).data);
      if (r.zscale === null) {
        assert.equal(z, null, r.file);
        continue;
      }
      const span = r.zscale[1] - r.zscale[0];
      assert.ok(closeLimit(z!.min, r.zscale[0], span), r.file);
      assert.ok(closeLimit(z!.max, r.zscale[1], span), r.file);
    }
    assert.equal(zscale([NaN, Infinity, -Infinity]), null);
    assert.deepEqual(zscale([3]), {min: 3, max: 3});
  });
});

describe('renderStampPng', () => {
  it('renders each real stamp as a PNG of 4 × 63 px, every FITS pixel a uniform 4 × 4 block, north up', async () => {
    const ref = loadReference();
    const stamps = await realStamps();
    for (const r of ref.stamps) {
      const bytes = stamps.get(`${r.sample}/${r.kind}`)!;
      const img = readFits(bytes);
      const png = decode(renderStampPng(bytes));
      assert.equal(png.width, 252);
      assert.equal(png.height, 252);
      const lim = zscale(img.data)!;
      const grey = (v: number) =>
        Math.round(
          Math.min(1, Math.max(0, (v - lim.min) / (lim.max - lim.min))) * 255,
        );
      for (let y = 0; y < img.height; y++) {
        for (let x = 0; x < img.width; x++) {
          // FITS row y is PNG block row height - 1 - y.
          const g = grey(img.data[y * img.width + x]);
          const top = (img.height - 1 - y) * 4;
          for (let dy = 0; dy < 4; dy++) {
            for (let dx = 0; dx < 4; dx++) {
              const p = rgba(png, x * 4 + dx, top + dy);
              if (p[0] !== g || p[1] !== g || p[2] !== g || p[3] !== 255) {
                assert.fail(
                  `${r.sample}/${r.kind}: FITS (${x}, ${y}) → PNG (${x * 4 + dx}, ${top + dy}) is ${p}, expected grey ${g}`,
                );
              }
            }
          }
        }
      }
    }
  });

  it('marks NaN pixels with the documented colour and nothing else', () => {
    const bytes = syntheticBytes('bitpix-32-nan.fits.gz');
    const img = readFits(bytes);
    const png = decode(renderStampPng(bytes, {scale: 1}));
    assert.deepEqual([png.width, png.height], [img.width, img.height]);
    let marked = 0;
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        const nan = Number.isNaN(img.data[y * img.width + x]);
        const p = rgba(png, x, img.height - 1 - y);
        if (nan) {
          assert.deepEqual(p, [...NAN_COLOUR, 255], `(${x}, ${y})`);
          marked++;
        } else {
          assert.ok(p[0] === p[1] && p[1] === p[2], `(${x}, ${y}) grey`);
        }
      }
    }
    assert.equal(marked, 361);
    const all = decode(renderStampPng(syntheticBytes('all-nan.fits')));
    for (let i = 0; i < all.data.length; i += 4) {
      assert.deepEqual([...all.data.subarray(i, i + 3)], [...NAN_COLOUR]);
    }
  });

  it('asinh: black at the lower limit, white at the upper, brighter than linear in between', () => {
    const data = new Float64Array(64 * 64);
    for (let i = 0; i < data.length; i++) data[i] = i;
    const image = {
      width: 64,
      height: 64,
      bitpix: -64 as const,
      data,
      header: {},
    };
    const lim = zscale(data)!;
    const lin = decode(renderImagePng(image, {scale: 1, stretch: 'linear'}));
    const asinh = decode(renderImagePng(image, {scale: 1, stretch: 'asinh'}));
    const at = (png: PNG, i: number) =>
      rgba(png, i % 64, 63 - Math.floor(i / 64))[0];
    assert.equal(at(asinh, 0), 0);
    assert.equal(at(asinh, data.length - 1), 255);
    const mid = Math.round((lim.min + lim.max) / 2);
    const t = (mid - lim.min) / (lim.max - lim.min);
    assert.equal(
      at(asinh, mid),
      Math.round((Math.asinh(t / ASINH_A) / Math.asinh(1 / ASINH_A)) * 255),
    );
    assert.equal(at(lin, mid), Math.round(t * 255));
    assert.ok(at(asinh, mid) > at(lin, mid));
  });

  it('scales by the integer asked for; the default shows small stamps at ≥ 250 px', () => {
    const bytes = syntheticBytes('bitpix8.fits'); // 17 × 9
    const def = decode(renderStampPng(bytes));
    assert.deepEqual([def.width, def.height], [17 * 15, 9 * 15]);
    const seven = decode(renderStampPng(bytes, {scale: 7}));
    assert.deepEqual([seven.width, seven.height], [119, 63]);
  });

  it('refuses bad options and bad FITS', () => {
    const bytes = syntheticBytes('bitpix8.fits');
    for (const scale of [0, 1.5, 17, -1, NaN]) {
      assert.throws(() => renderStampPng(bytes, {scale}), RangeError);
    }
    assert.throws(
      () => renderStampPng(bytes, {stretch: 'log' as unknown as 'linear'}),
      RangeError,
    );
    const wide = {
      width: 300,
      height: 2,
      bitpix: -64 as const,
      data: new Float64Array(600),
      header: {},
    };
    assert.throws(() => renderImagePng(wide, {scale: 14}), /exceeds 4096 px/);
    assert.equal(decode(renderImagePng(wide, {scale: 13})).width, 3900);
    assert.equal(decode(renderImagePng(wide)).width, 300);
    assert.throws(() => renderStampPng(Buffer.from('not fits')), FitsError);
  });
});
