/**
 * Alert stamps as PNG images, the way astronomers look at them:
 *
 * - Limits: zscale (IRAF's algorithm, as astropy's ZScaleInterval with its
 *   defaults: up to 1000 evenly strided finite samples, a line fitted to the
 *   sorted samples with 2.5σ rejection grown by 1 % of the samples, at most
 *   5 iterations, contrast 0.25; the data's min and max when more than half
 *   the samples are rejected).
 * - Stretch: `linear` (default) or `asinh` (astropy's AsinhStretch, a =
 *   0.1: y = asinh(x / a) / asinh(1 / a) of the value x normalized to the
 *   limits), to 8-bit grey.
 * - NaN (and ±Infinity) pixels: {@link NAN_COLOUR}, opaque magenta
 *   (#ff00ff), a colour no grey pixel can have.
 * - North up: FITS row 0 is the bottom row of the image (as DS9 shows it), so
 *   it becomes the last row of the PNG. ZTF stamps carry no WCS; columns are
 *   kept in FITS order.
 * - Pixel-exact upscaling: each FITS pixel becomes a `scale` × `scale`
 *   block (nearest neighbour, no smoothing). Default: the smallest integer
 *   that shows the image at ≥ 250 px (4 for a 63 px ZTF stamp: 252 px).
 * - Encoded by pngjs as 8-bit RGB; one buffer per image, no per-pixel
 *   allocation.
 */

import {PNG} from 'pngjs';

import {FitsImage, readFits} from './fits';

export type Stretch = 'linear' | 'asinh';

export interface RenderOptions {
  stretch?: Stretch;
  /** Integer upscaling factor, 1..{@link MAX_SCALE}. Default: see the module comment. */
  scale?: number;
}

/** RGB of NaN pixels: opaque magenta. */
export const NAN_COLOUR: readonly [number, number, number] = [255, 0, 255];
/** The default scale shows the larger side at this many pixels or more. */
export const DEFAULT_MIN_DISPLAY_PX = 250;
export const MAX_SCALE = 16;
/** Largest PNG side produced (bounded memory). */
export const MAX_OUTPUT_PX = 4096;
/** astropy's AsinhStretch default. */
export const ASINH_A = 0.1;

export interface ZScaleLimits {
  min: number;
  max: number;
}

/** astropy ZScaleInterval's defaults. */
const N_SAMPLES = 1000;
const CONTRAST = 0.25;
const MAX_REJECT = 0.5;
const MIN_NPIXELS = 5;
const KREJ = 2.5;
const MAX_ITERATIONS = 5;

/**
 * zscale limits of `data` (finite values only, in array order), as astropy's
 * `ZScaleInterval().get_limits(data)`. null when no value is finite.
 */
export function zscale(data: ArrayLike<number>): ZScaleLimits | null {
  let finite = 0;
  for (let i = 0; i < data.length; i++) if (Number.isFinite(data[i])) finite++;
  if (finite === 0) return null;
  const stride = Math.max(1, Math.trunc(finite / N_SAMPLES));
  const npix = Math.min(N_SAMPLES, Math.ceil(finite / stride));
  const samples = new Float64Array(npix);
  for (let i = 0, k = 0, j = 0; i < data.length && j < npix; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) continue;
    if (k % stride === 0) samples[j++] = v;
    k++;
  }
  samples.sort();

  let vmin = samples[0];
  let vmax = samples[npix - 1];
  const minpix = Math.max(MIN_NPIXELS, Math.trunc(npix * MAX_REJECT));
  let ngoodpix = npix;
  let lastNgoodpix = npix + 1;
  let bad = new Uint8Array(npix);
  let grown = new Uint8Array(npix);
  const ngrow = Math.max(1, Math.trunc(npix * 0.01));
  // np.convolve(bad, ones(ngrow), 'same'): i sees [i - left, i + right].
  const left = Math.trunc(ngrow / 2);
  const right = ngrow - 1 - left;
  let slope = 0;
  let fitted = false;

  for (let iter = 0; iter < MAX_ITERATIONS; iter++) {
    if (ngoodpix >= lastNgoodpix || ngoodpix < minpix) break;
    // Least-squares line through the good samples (x = index).
    let n = 0;
    let sx = 0;
    let sy = 0;
    for (let i = 0; i < npix; i++) {
      if (bad[i]) continue;
      n++;
      sx += i;
      sy += samples[i];
    }
    const mx = sx / n;
    const my = sy / n;
    let sxx = 0;
    let sxy = 0;
    for (let i = 0; i < npix; i++) {
      if (bad[i]) continue;
      const dx = i - mx;
      sxx += dx * dx;
      sxy += dx * (samples[i] - my);
    }
    slope = sxx > 0 ? sxy / sxx : 0;
    const intercept = my - slope * mx;
    fitted = true;
    // Population standard deviation of the residuals of the good samples.
    let sr = 0;
    let srr = 0;
    for (let i = 0; i < npix; i++) {
      if (bad[i]) continue;
      const r = samples[i] - (intercept + slope * i);
      sr += r;
      srr += r * r;
    }
    const mean = sr / n;
    const threshold = KREJ * Math.sqrt(Math.max(0, srr / n - mean * mean));
    for (let i = 0; i < npix; i++) {
      const r = samples[i] - (intercept + slope * i);
      if (r < -threshold || r > threshold) bad[i] = 1;
    }
    // Grow the rejected samples by ngrow (a boolean convolution).
    let good = 0;
    for (let i = 0; i < npix; i++) {
      let g = 0;
      const lo = Math.max(0, i - left);
      const hi = Math.min(npix - 1, i + right);
      for (let j = lo; j <= hi; j++) {
        if (bad[j]) {
          g = 1;
          break;
        }
      }
      grown[i] = g;
      if (!g) good++;
    }
    [bad, grown] = [grown, bad];
    lastNgoodpix = ngoodpix;
    ngoodpix = good;
  }

  if (fitted && ngoodpix >= minpix) {
    const s = slope / CONTRAST;
    const center = Math.trunc((npix - 1) / 2);
    const median =
      npix % 2
        ? samples[(npix - 1) / 2]
        : (samples[npix / 2 - 1] + samples[npix / 2]) / 2;
    vmin = Math.max(vmin, median - (center - 1) * s);
    vmax = Math.min(vmax, median + (npix - center) * s);
  }
  return {min: vmin, max: vmax};
}

function defaultScale(width: number, height: number): number {
  return Math.max(
    1,
    Math.min(
      MAX_SCALE,
      Math.ceil(DEFAULT_MIN_DISPLAY_PX / Math.max(width, height)),
    ),
  );
}

function checkScale(scale: number, width: number, height: number): number {
  if (!Number.isInteger(scale) || scale < 1 || scale > MAX_SCALE) {
    throw new RangeError(
      `scale must be an integer in 1..${MAX_SCALE}, got ${scale}`,
    );
  }
  if (Math.max(width, height) * scale > MAX_OUTPUT_PX) {
    throw new RangeError(
      `a ${width} × ${height} image at scale ${scale} exceeds ${MAX_OUTPUT_PX} px`,
    );
  }
  return scale;
}

/** Value → 8-bit grey for the given stretch and limits. */
function toneMapper(
  stretch: Stretch,
  lim: ZScaleLimits,
): (v: number) => number {
  const span = lim.max - lim.min;
  const norm =
    span > 0
      ? (v: number) => {
          const t = (v - lim.min) / span;
          return t <= 0 ? 0 : t >= 1 ? 1 : t;
        }
      : (v: number) => (v > lim.min ? 1 : 0);
  if (stretch === 'linear') return v => Math.round(norm(v) * 255);
  const k = 1 / Math.asinh(1 / ASINH_A);
  return v => Math.round(Math.asinh(norm(v) / ASINH_A) * k * 255);
}

/** Renders a decoded image (see the module comment). */
export function renderImagePng(
  image: FitsImage,
  opts: RenderOptions = {},
): Buffer {
  const {width, height, data} = image;
  const stretch = opts.stretch ?? 'linear';
  if (stretch !== 'linear' && stretch !== 'asinh') {
    throw new RangeError(
      `stretch must be linear or asinh, got ${String(stretch)}`,
    );
  }
  const scale = checkScale(
    opts.scale ?? defaultScale(width, height),
    width,
    height,
  );
  const lim = zscale(data) ?? {min: 0, max: 0};
  const tone = toneMapper(stretch, lim);
  const outW = width * scale;
  const outH = height * scale;
  const rowBytes = outW * 3;
  const rgb = Buffer.allocUnsafe(rowBytes * outH);
  const [nr, ng, nb] = NAN_COLOUR;
  for (let y = 0; y < height; y++) {
    // FITS row 0 is the bottom: it ends up in the last PNG rows.
    const top = (height - 1 - y) * scale;
    let o = top * rowBytes;
    const src = y * width;
    for (let x = 0; x < width; x++) {
      const v = data[src + x];
      let r: number;
      let g: number;
      let b: number;
      if (Number.isFinite(v)) {
        r = g = b = tone(v);
      } else {
        r = nr;
        g = ng;
        b = nb;
      }
      for (let s = 0; s < scale; s++) {
        rgb[o++] = r;
        rgb[o++] = g;
        rgb[o++] = b;
      }
    }
    for (let s = 1; s < scale; s++) {
      rgb.copy(rgb, (top + s) * rowBytes, top * rowBytes, (top + 1) * rowBytes);
    }
  }
  return PNG.sync.write(
    {width: outW, height: outH, data: rgb} as unknown as PNG,
    {
      colorType: 2,
      inputColorType: 2,
      inputHasAlpha: false,
      // "Up" filter: the repeated rows of the upscaling filter to zeros.
      filterType: 2,
      deflateLevel: 6,
    },
  );
}

/**
 * A stamp (FITS bytes, gzipped or not) as PNG bytes. Throws FitsError on bad
 * FITS input, RangeError on bad options.
 */
export function renderStampPng(
  bytes: Uint8Array,
  opts: RenderOptions = {},
): Buffer {
  return renderImagePng(readFits(bytes), opts);
}
