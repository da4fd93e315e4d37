/**
 * A small, bounded FITS reader for alert stamps: the image of the primary
 * HDU only (ZTF stamps are a single primary HDU: 63 × 63 pixels, BITPIX
 * −32, gzipped).
 *
 * - gzip is recognized by its magic bytes (1f 8b), whatever the file name;
 *   the inflated size is bounded before any allocation.
 * - The header is 2880-byte blocks of 80-character cards up to END; the
 *   first card must be `SIMPLE = T`. Values: strings (with '' escapes),
 *   logicals, integers, reals (D exponents too); COMMENT, HISTORY, blank
 *   and malformed keywords are not kept; a repeated keyword keeps its first
 *   value.
 * - BITPIX 8, 16, 32 (integers, big-endian, 8 unsigned) and −32, −64 (IEEE
 *   floats); `value = BZERO + BSCALE × raw`; integer pixels equal to BLANK
 *   become NaN (the standard's "undefined").
 * - NAXIS ≥ 2 with every axis beyond the second of length 1; the image is
 *   NAXIS1 (width) × NAXIS2 (height) and at most {@link MAX_PIXELS} pixels.
 *   Data missing its final padding is accepted; data shorter than the
 *   image is an error.
 * - Anything else (not FITS, truncated, unsupported, absurd sizes) throws a
 *   {@link FitsError} with a message saying what is wrong. Never a partial
 *   image.
 */

import {gunzipSync} from 'node:zlib';

export type FitsHeaderValue = string | number | boolean;

export interface FitsImage {
  /** NAXIS1: pixels per row. */
  width: number;
  /** NAXIS2: rows. */
  height: number;
  bitpix: 8 | 16 | 32 | -32 | -64;
  /**
   * Physical values (BZERO + BSCALE × raw), row-major in FITS order: index
   * `y * width + x`, row 0 is the bottom row of the image as displayed.
   */
  data: Float64Array;
  header: Record<string, FitsHeaderValue>;
}

/** Bad, truncated or unsupported FITS input. */
export class FitsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FitsError';
  }
}

const BLOCK = 2880;
const CARD = 80;
/** Largest image accepted: 2048 × 2048 pixels (32 MiB of Float64). */
export const MAX_PIXELS = 2048 * 2048;
/** Largest header accepted: 100 blocks (3,600 cards). */
const MAX_HEADER_BLOCKS = 100;
const MAX_AXES = 999;
const BITPIXES = new Set([8, 16, 32, -32, -64]);

export interface FitsReadOptions {
  /** Refuse images with more pixels than this. Default {@link MAX_PIXELS}. */
  maxPixels?: number;
}

function inflate(bytes: Uint8Array, maxPixels: number): Uint8Array {
  const bound =
    MAX_HEADER_BLOCKS * BLOCK + Math.ceil((maxPixels * 8) / BLOCK) * BLOCK;
  try {
    return gunzipSync(bytes, {maxOutputLength: bound});
  } catch (e) {
    const code = (e as {code?: string}).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new FitsError(`gzipped FITS inflates to more than ${bound} bytes`);
    }
    throw new FitsError(
      `bad gzip data: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

/** The value part of a card (columns 11-80), parsed. undefined: no value. */
function parseValue(text: string): FitsHeaderValue | undefined {
  const s = text.trimStart();
  if (s.startsWith("'")) {
    let out = '';
    for (let i = 1; i < s.length; i++) {
      if (s[i] === "'") {
        if (s[i + 1] === "'") {
          out += "'";
          i++;
          continue;
        }
        return out.trimEnd();
      }
      out += s[i];
    }
    return undefined; // unterminated string
  }
  const slash = s.indexOf('/');
  const v = (slash >= 0 ? s.slice(0, slash) : s).trim();
  if (v === 'T') return true;
  if (v === 'F') return false;
  if (/^[+-]?\d+$/.test(v)) return Number(v);
  if (/^[+-]?(\d+\.?\d*|\.\d+)([EeDd][+-]?\d+)?$/.test(v)) {
    return Number(v.replace(/[Dd]/, 'E'));
  }
  return v === '' ? undefined : v;
}

interface Header {
  cards: Record<string, FitsHeaderValue>;
  /** Offset of the data: the header's length, a multiple of 2880. */
  dataOffset: number;
}

function readHeader(b: Uint8Array): Header {
  const cards: Record<string, FitsHeaderValue> = {};
  const limit = Math.min(b.length, MAX_HEADER_BLOCKS * BLOCK);
  for (let off = 0; off + CARD <= limit; off += CARD) {
    const card = Buffer.from(b.buffer, b.byteOffset + off, CARD).toString(
      'latin1',
    );
    if (off === 0 && !/^SIMPLE {2}= {1,20}T\b/.test(card)) {
      throw new FitsError(
        'not a FITS file: the first card is not "SIMPLE = T"',
      );
    }
    const key = card.slice(0, 8).trimEnd();
    if (key === 'END') {
      const dataOffset = Math.ceil((off + CARD) / BLOCK) * BLOCK;
      return {cards, dataOffset};
    }
    // Keywords are upper case, digits, '-' and '_'; a card with another
    // keyword (or binary junk) is skipped, as are commentary cards.
    if (!/^[A-Z0-9_-]+$/.test(key) || key === 'COMMENT' || key === 'HISTORY') {
      continue;
    }
    if (card.slice(8, 10) !== '= ') continue;
    const value = parseValue(card.slice(10));
    if (value !== undefined && !(key in cards)) cards[key] = value;
  }
  throw new FitsError(
    b.length >= MAX_HEADER_BLOCKS * BLOCK
      ? `no END card in the first ${MAX_HEADER_BLOCKS} header blocks`
      : `truncated FITS header: no END card in ${b.length} bytes`,
  );
}

function intCard(cards: Header['cards'], key: string): number {
  const v = cards[key];
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new FitsError(
      `header card ${key} is ${v === undefined ? 'missing' : `not an integer: ${JSON.stringify(v)}`}`,
    );
  }
  return v;
}

function realCard(cards: Header['cards'], key: string, dflt: number): number {
  const v = cards[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new FitsError(
      `header card ${key} is not a number: ${JSON.stringify(v)}`,
    );
  }
  return v;
}

/**
 * Reads the primary image of a FITS file (gzipped or not).
 * Throws {@link FitsError} on anything it cannot read exactly.
 */
export function readFits(
  bytes: Uint8Array,
  opts: FitsReadOptions = {},
): FitsImage {
  const maxPixels = opts.maxPixels ?? MAX_PIXELS;
  if (!(bytes instanceof Uint8Array)) {
    throw new FitsError('FITS input must be bytes');
  }
  if (bytes.length === 0) throw new FitsError('empty FITS input (0 bytes)');
  const b =
    bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b
      ? inflate(bytes, maxPixels)
      : bytes;
  const {cards, dataOffset} = readHeader(b);

  const bitpix = intCard(cards, 'BITPIX');
  if (!BITPIXES.has(bitpix)) {
    throw new FitsError(
      `unsupported BITPIX ${bitpix} (supported: 8, 16, 32, -32, -64)`,
    );
  }
  const naxis = intCard(cards, 'NAXIS');
  if (naxis < 0 || naxis > MAX_AXES) throw new FitsError(`bad NAXIS ${naxis}`);
  if (naxis < 2) {
    throw new FitsError(
      `no image in the primary HDU (NAXIS = ${naxis}; a 2-d image is needed)`,
    );
  }
  const axes: number[] = [];
  for (let i = 1; i <= naxis; i++) {
    const n = intCard(cards, `NAXIS${i}`);
    if (n < 0) throw new FitsError(`bad NAXIS${i} ${n}`);
    axes.push(n);
  }
  const [width, height] = axes;
  for (let i = 2; i < naxis; i++) {
    if (axes[i] !== 1) {
      throw new FitsError(
        `unsupported ${naxis}-d image: NAXIS${i + 1} = ${axes[i]} (only 2-d images)`,
      );
    }
  }
  if (width === 0 || height === 0) {
    throw new FitsError(`empty image (${width} × ${height})`);
  }
  if (width * height > maxPixels) {
    throw new FitsError(
      `image of ${width} × ${height} pixels exceeds the bound of ${maxPixels} pixels`,
    );
  }
  const bscale = realCard(cards, 'BSCALE', 1);
  const bzero = realCard(cards, 'BZERO', 0);
  const blank =
    bitpix > 0 && typeof cards.BLANK === 'number' ? cards.BLANK : undefined;

  const n = width * height;
  const bytesPer = Math.abs(bitpix) / 8;
  const need = dataOffset + n * bytesPer;
  if (b.length < need) {
    throw new FitsError(
      `truncated FITS data: ${width} × ${height} × ${bytesPer} bytes need ${need} bytes, got ${b.length}`,
    );
  }
  const view = new DataView(b.buffer, b.byteOffset + dataOffset, n * bytesPer);
  const data = new Float64Array(n);
  switch (bitpix) {
    case 8:
      for (let i = 0; i < n; i++) data[i] = view.getUint8(i);
      break;
    case 16:
      for (let i = 0; i < n; i++) data[i] = view.getInt16(i * 2);
      break;
    case 32:
      for (let i = 0; i < n; i++) data[i] = view.getInt32(i * 4);
      break;
    case -32:
      for (let i = 0; i < n; i++) data[i] = view.getFloat32(i * 4);
      break;
    case -64:
      for (let i = 0; i < n; i++) data[i] = view.getFloat64(i * 8);
      break;
  }
  if (blank !== undefined || bscale !== 1 || bzero !== 0) {
    for (let i = 0; i < n; i++) {
      const raw = data[i];
      data[i] = raw === blank ? NaN : bzero + bscale * raw;
    }
  }
  return {
    width,
    height,
    bitpix: bitpix as FitsImage['bitpix'],
    data,
    header: cards,
  };
}
