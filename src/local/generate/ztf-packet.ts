/**
 * ZTF-like alert packets (Avro OCF) with the real traps: candid above 2^53,
 * `["float","null"]` unions with default null, null classtar, null or empty
 * history, ~14 KB cutouts, deflate, several records per container. A
 * default packet is ~65-75 KB like the real ones. Deterministic by seed.
 */

import * as avro from 'avsc';

import {buildType} from '../../alert/avro-types';
import {writeOcf} from './ocf-writer';
import {Random} from './random';
import {
  CANDIDATE_FLOAT_FIELDS,
  ztfLikeSchema,
  ztfLikeSchemaText,
} from './ztf-schema';

export interface ZtfPacketOptions {
  seed?: number;
  /** Records in the container (default 1). */
  count?: number;
  /** Records per block (default: all in one). */
  recordsPerBlock?: number;
  codec?: 'null' | 'deflate';
  /** '3.3' (no fp_hists) or '4.02' (default). */
  schemaVersion?: '3.3' | '4.02';
  /** Make candidate.classtar null (default: a value). */
  nullClasstar?: boolean;
  /** Number of prv_candidates, or 'null' / 'empty' (default 20, a third of them non-detections). */
  prvCandidates?: number | 'null' | 'empty';
  /** Bytes per cutout (default ~14,000, varying by seed); 0 = no cutouts (null). */
  cutoutBytes?: number;
  /** Ids of the first record (default: random; candid above 2^53). */
  objectId?: string;
  candid?: bigint;
}

export interface ExpectedAlert {
  objectId: string;
  sourceId: string;
  ra: number | null;
  dec: number | null;
  jd: number | null;
  mag: number | null;
  band: string | null;
  classtar: number | null;
  nPrevious: number | null;
}

export interface GeneratedPacket {
  bytes: Buffer;
  /** What a decoder must find, one per record, in order. */
  expected: ExpectedAlert[];
  /** The records as written. */
  records: Record<string, unknown>[];
}

const typeCache = new Map<string, avro.Type>();

/** The avsc type of the ZTF-like schema (bigint longs), built once per version. */
export function ztfLikeType(version = '4.02'): avro.Type {
  let t = typeCache.get(version);
  if (!t) {
    t = buildType(ztfLikeSchema(version));
    typeCache.set(version, t);
  }
  return t;
}

function objectIdOf(rng: Random): string {
  return `ZTF${rng.int(17, 25)}${rng.letters(7)}`;
}

function cutout(rng: Random, candid: bigint, kind: string, size: number) {
  const data = rng.bytes(size);
  data[0] = 0x1f; // gzip magic, like the real stamps
  data[1] = 0x8b;
  data[2] = 0x08;
  return {
    fileName: `candid${candid}_pid${rng.int(1e8, 9e8)}_targ_${kind}.fits.gz`,
    stampData: data,
  };
}

function floatsOrNull(rng: Random, names: readonly string[], pNull: number) {
  const o: Record<string, number | null> = {};
  for (const n of names)
    o[n] = rng.bool(pNull) ? null : Math.fround(rng.float(-5, 25));
  return o;
}

function makeRecord(
  rng: Random,
  opts: ZtfPacketOptions,
  version: string,
  objectId: string,
  candid: bigint,
): Record<string, unknown> {
  const jd = 2458000.5 + rng.float(0, 3000);
  const fid = rng.int(1, 3);
  const ra = rng.float(0, 360);
  const dec = rng.float(-30, 90);
  const pid = rng.bigint(10n ** 11n, 10n ** 12n);
  const candidate: Record<string, unknown> = {
    jd,
    fid,
    pid,
    pdiffimfilename: `ztf_${pid}_diff.fits`,
    programpi: rng.pick(['Kulkarni', 'Graham', 'TESS']),
    programid: rng.int(1, 3),
    candid,
    isdiffpos: rng.pick(['t', 'f', '1', '0']),
    tblid: BigInt(rng.int(0, 100)),
    nid: rng.int(400, 3000),
    rcid: rng.int(0, 63),
    field: rng.int(200, 1900),
    ra,
    dec,
    magpsf: Math.fround(rng.float(13, 21)),
    sigmapsf: Math.fround(rng.float(0.01, 0.3)),
    ssnamenr: rng.bool(0.9) ? null : `${rng.int(1000, 99999)}`,
    ranr: ra + rng.float(-1e-4, 1e-4),
    decnr: dec + rng.float(-1e-4, 1e-4),
    ndethist: rng.int(1, 500),
    ncovhist: rng.int(1, 2000),
    jdstarthist: jd - rng.float(0, 1000),
    jdendhist: jd,
    tooflag: 0,
    objectidps1: rng.bigint(10n ** 17n, 2n ** 62n),
    objectidps2: rng.bool(0.2) ? null : rng.bigint(10n ** 17n, 2n ** 62n),
    objectidps3: null,
    nmtchps: rng.int(0, 20),
    rfid: rng.bigint(10n ** 8n, 10n ** 9n),
    jdstartref: jd - 2000,
    jdendref: jd - 1000,
    nframesref: rng.int(15, 40),
    rbversion: 't17_f5_c3',
    drbversion: 'd6_m7',
    nneg: rng.int(0, 10),
    nbad: 0,
    nmatches: rng.int(100, 2000),
    ...floatsOrNull(rng, CANDIDATE_FLOAT_FIELDS, 0.1),
  };
  candidate.classtar = opts.nullClasstar ? null : Math.fround(rng.float(0, 1));
  if (version >= '4') {
    candidate.sciinpseeing = Math.fround(rng.float(1, 4));
    candidate.scibckgnd = Math.fround(rng.float(50, 500));
  }
  const prvOpt = opts.prvCandidates ?? 20;
  let prv: Record<string, unknown>[] | null;
  if (prvOpt === 'null') prv = null;
  else if (prvOpt === 'empty') prv = [];
  else {
    prv = [];
    for (let i = 0; i < prvOpt; i++) {
      const detected = i % 3 !== 2;
      prv.push({
        jd: jd - (prvOpt - i) * rng.float(0.5, 3),
        fid: rng.int(1, 3),
        pid: rng.bigint(10n ** 11n, 10n ** 12n),
        diffmaglim: Math.fround(rng.float(19, 21)),
        pdiffimfilename: null,
        programpi: 'Kulkarni',
        programid: 1,
        candid: detected ? rng.bigint(2n ** 53n, 2n ** 62n) : null,
        isdiffpos: detected ? 't' : null,
        tblid: detected ? BigInt(rng.int(0, 50)) : null,
        nid: rng.int(400, 3000),
        rcid: rng.int(0, 63),
        field: rng.int(200, 1900),
        xpos: detected ? Math.fround(rng.float(0, 3000)) : null,
        ypos: detected ? Math.fround(rng.float(0, 3000)) : null,
        ra: detected ? ra : null,
        dec: detected ? dec : null,
        magpsf: detected ? Math.fround(rng.float(13, 21)) : null,
        sigmapsf: detected ? Math.fround(rng.float(0.01, 0.3)) : null,
        ...floatsOrNull(
          rng,
          CANDIDATE_FLOAT_FIELDS.slice(3, 40),
          detected ? 0.1 : 1,
        ),
        ssnamenr: null,
        rbversion: 't17_f5_c3',
      });
    }
  }
  const record: Record<string, unknown> = {
    schemavsn: version,
    publisher: 'pittgoogle-functions fixtures',
    objectId,
    candid,
    candidate,
    prv_candidates: prv,
  };
  if (version >= '4') {
    record.fp_hists = rng.bool(0.5)
      ? null
      : Array.from({length: rng.int(0, 5)}, () => ({
          field: rng.int(200, 1900),
          rcid: rng.int(0, 63),
          fid: rng.int(1, 3),
          pid: rng.bigint(10n ** 11n, 10n ** 12n),
          rfid: rng.bigint(10n ** 8n, 10n ** 9n),
          sciinpseeing: Math.fround(rng.float(1, 4)),
          scibckgnd: Math.fround(rng.float(50, 500)),
          magzpsci: Math.fround(rng.float(25, 27)),
          exptime: 30,
          diffmaglim: Math.fround(rng.float(19, 21)),
          programid: 1,
          jd: jd - rng.float(1, 30),
          forcediffimflux: rng.bool(0.2)
            ? null
            : Math.fround(rng.float(-100, 1000)),
          forcediffimfluxunc: Math.fround(rng.float(1, 50)),
          procstatus: '0',
        }));
  }
  const size = opts.cutoutBytes ?? 13_000 + rng.int(0, 2_000);
  for (const [field, kind] of [
    ['cutoutScience', 'sci'],
    ['cutoutTemplate', 'ref'],
    ['cutoutDifference', 'diff'],
  ]) {
    record[field] = size > 0 ? cutout(rng, candid, kind, size) : null;
  }
  return record;
}

const BANDS = ['', 'g', 'r', 'i'];

/** One ZTF-like OCF packet (see {@link ZtfPacketOptions}). */
export function generateZtfPacket(
  opts: ZtfPacketOptions = {},
): GeneratedPacket {
  const rng = new Random(opts.seed ?? 1);
  const version = opts.schemaVersion ?? '4.02';
  const type = ztfLikeType(version);
  const records: Record<string, unknown>[] = [];
  const count = Math.max(1, opts.count ?? 1);
  for (let i = 0; i < count; i++) {
    const objectId = i === 0 && opts.objectId ? opts.objectId : objectIdOf(rng);
    const candid =
      i === 0 && opts.candid !== undefined
        ? opts.candid
        : rng.bigint(2n ** 60n, 2n ** 62n);
    records.push(makeRecord(rng, opts, version, objectId, candid));
  }
  const bytes = writeOcf(type, ztfLikeSchemaText(version), records, {
    codec: opts.codec ?? 'null',
    sync: rng.bytes(16),
    recordsPerBlock: opts.recordsPerBlock,
  });
  const expected = records.map(r => {
    const c = r.candidate as Record<string, unknown>;
    const prv = r.prv_candidates as Record<string, unknown>[] | null;
    return {
      objectId: r.objectId as string,
      sourceId: (r.candid as bigint).toString(),
      ra: c.ra as number,
      dec: c.dec as number,
      jd: c.jd as number,
      mag: c.magpsf as number,
      band: BANDS[c.fid as number],
      classtar: c.classtar as number | null,
      nPrevious: prv ? prv.filter(p => p.candid !== null).length : 0,
    };
  });
  return {bytes, expected, records};
}
