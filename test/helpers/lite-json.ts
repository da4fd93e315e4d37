/**
 * Lite JSON alerts like `ztf-lite` publishes: ids above 2^53 written as bare
 * integers, bare NaN / Infinity tokens (Python's json.dumps), older
 * (`alertIds`/`source`/`prvSources`/`xmatch`) or newer (`alert_lite`) shape.
 */

import {Random} from '../../src/local/generate/random';
import {GeneratedPacket} from '../../src/local/generate/ztf-packet';

export interface LiteJsonOptions {
  seed?: number;
  shape?: 'old' | 'new';
  /** Write NaN / Infinity tokens in some float fields (default true). */
  nonFinite?: boolean;
  /** Make classtar NaN (decoders must give null). */
  nanClasstar?: boolean;
  candid?: bigint;
  objectId?: string;
  /** Leave out the object id (an invalid alert). */
  omitObjectId?: boolean;
}

const NAN = '\u0000NaN';
const INF = '\u0000Infinity';
const NINF = '\u0000-Infinity';

/** JSON text with exact bigints and Python-style non-finite tokens. */
export function pythonJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => {
    if (typeof v === 'bigint') return `\u0000big${v}`;
    return v;
  }).replace(/"\\u0000(big-?\d+|NaN|Infinity|-Infinity)"/g, (_m, t: string) =>
    t.startsWith('big') ? t.slice(3) : t,
  );
}

export function generateLiteJson(opts: LiteJsonOptions = {}): GeneratedPacket {
  const rng = new Random(opts.seed ?? 1);
  const nonFinite = opts.nonFinite ?? true;
  const objectId = opts.objectId ?? `ZTF${rng.int(17, 25)}${rng.letters(7)}`;
  const candid = opts.candid ?? rng.bigint(2n ** 60n, 2n ** 62n);
  const jd = 2459000.5 + rng.float(0, 1500);
  const fid = rng.int(1, 3);
  const ra = rng.float(0, 360);
  const dec = rng.float(-30, 90);
  const magpsf = rng.float(13, 21);
  const classtar = opts.nanClasstar ? NAN : rng.float(0, 1);
  const source: Record<string, unknown> = {
    objectId: opts.omitObjectId ? undefined : objectId,
    candid,
    jd,
    ra,
    dec,
    magpsf,
    sigmapsf: rng.float(0.01, 0.3),
    fid,
    classtar,
    isdiffpos: 't',
    rb: rng.float(0, 1),
    drb: nonFinite ? NAN : rng.float(0, 1),
    ndethist: rng.int(1, 100),
    pid: rng.bigint(10n ** 11n, 10n ** 12n),
  };
  const nPrv = rng.int(0, 5);
  const prvSources = Array.from({length: nPrv}, (_, i) => ({
    candid: i % 2 ? null : rng.bigint(2n ** 60n, 2n ** 62n),
    jd: jd - i - 1,
    magpsf: i % 2 ? NAN : rng.float(13, 21),
    fid: rng.int(1, 3),
  }));
  const body = {
    alertIds: {
      objectId: opts.omitObjectId ? undefined : objectId,
      candid,
      sourceId: candid,
    },
    source,
    prvSources,
    xmatch: {
      ssdistnr: nonFinite ? NINF : -999,
      ssmagnr: nonFinite ? INF : -999,
      distpsnr1: rng.float(0, 30),
      sgscore1: rng.float(0, 1),
    },
  };
  const value = opts.shape === 'new' ? {alert_lite: body} : body;
  const text = pythonJson(value);
  return {
    bytes: Buffer.from(text, 'utf8'),
    records: [value],
    expected: [
      {
        objectId,
        sourceId: candid.toString(),
        ra,
        dec,
        jd,
        mag: magpsf,
        band: ['', 'g', 'r', 'i'][fid],
        classtar: typeof classtar === 'number' ? classtar : null,
        nPrevious: prvSources.filter(p => p.candid !== null).length,
      },
    ],
  };
}
