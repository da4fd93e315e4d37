/** Hand-built, real-looking alerts for the store tests (no shared files needed). */

import {Alert} from '../../src/alert/model';

/** A hand-built ZTF-like alert (schema 4.02 shape, trimmed candidate). */
export function ztfAlert(
  o: {
    candid?: bigint;
    objectId?: string;
    stampBytes?: number;
    prv?: number;
    fp?: number;
  } = {},
): Alert {
  const candid = o.candid ?? 2982177112815010003n;
  const objectId = o.objectId ?? 'ZTF23abcdefg';
  const jd = 2460281.7501157;
  const candidate: Record<string, unknown> = {
    jd,
    fid: 1,
    pid: 2481250115015n,
    candid,
    ra: 150.1234567,
    dec: 2.2345678,
    magpsf: 18.345,
    sigmapsf: 0.071,
    classtar: 0.983,
    rb: 0.87,
    drb: 0.9991,
    isdiffpos: 't',
    distpsnr1: null,
    sgscore1: Number.NaN,
    ssdistnr: -999,
  };
  const stamp = (n: number) => ({
    fileName: `candid${candid}_sci.fits.gz`,
    stampData: Buffer.alloc(n, 0x1f),
  });
  const stampBytes = o.stampBytes ?? 14_000;
  return {
    survey: 'ztf',
    format: 'avro-ocf',
    schemaVersion: '4.02',
    objectId,
    sourceId: candid.toString(),
    ra: 150.1234567,
    dec: 2.2345678,
    jd,
    mjd: jd - 2400000.5,
    mag: 18.345,
    magErr: 0.071,
    band: 'g',
    nPrevious: o.prv ?? 3,
    classtar: 0.983,
    cutouts: {},
    record: {
      schemavsn: '4.02',
      publisher: 'ZTF (www.ztf.caltech.edu)',
      objectId,
      candid,
      candidate,
      prv_candidates: Array.from({length: o.prv ?? 3}, (_, i) => ({
        jd: jd - i - 1,
        fid: 2,
        candid: i % 2 ? null : candid - BigInt(i + 1),
        magpsf: i % 2 ? null : 18.9,
        diffmaglim: 20.4,
      })),
      fp_hists: Array.from({length: o.fp ?? 2}, (_, i) => ({
        field: 600 + i,
        jd: jd - i - 0.5,
        forcediffimflux: i % 2 ? Number.NEGATIVE_INFINITY : 123.4,
        procstatus: '0',
      })),
      cutoutScience: stamp(stampBytes),
      cutoutTemplate: stamp(stampBytes),
      cutoutDifference: stamp(stampBytes),
    },
  };
}
