/**
 * LSST-like Confluent wire packets with a small test schema written here
 * (the real structure: alert → diaSource, prvDiaSources, diaObject, cutouts
 * as bytes; named types in their own files like the real schema folders).
 */

import {mkdir, readdir, symlink, writeFile} from 'node:fs/promises';
import * as path from 'node:path';

import * as avro from 'avsc';

import {buildType} from '../../src/alert/avro-types';
import {inlineNamedTypes} from '../../src/alert/schema-source';
import {Random} from '../../src/local/generate/random';
import {GeneratedPacket} from '../../src/local/generate/ztf-packet';

type Schema = Record<string, unknown>;

/** The test schema of id `major*100+minor`: named types first, the top-level `alert` last. */
export function lsstLikeSchemas(schemaId = 1101): {
  alert: Schema;
  named: Schema[];
} {
  const ns = `lsst.v${Math.floor(schemaId / 100)}_${schemaId % 100}`;
  const opt = (name: string, type: string) => ({
    name,
    type: ['null', type],
    default: null,
  });
  const diaSource: Schema = {
    type: 'record',
    namespace: ns,
    name: 'diaSource',
    fields: [
      {name: 'diaSourceId', type: 'long'},
      {name: 'visit', type: 'long'},
      {name: 'detector', type: 'int'},
      opt('diaObjectId', 'long'),
      opt('ssObjectId', 'long'),
      {name: 'midpointMjdTai', type: 'double'},
      {name: 'ra', type: 'double'},
      {name: 'dec', type: 'double'},
      opt('psfFlux', 'float'),
      opt('psfFluxErr', 'float'),
      opt('snr', 'float'),
      opt('band', 'string'),
    ],
  };
  const diaObject: Schema = {
    type: 'record',
    namespace: ns,
    name: 'diaObject',
    fields: [
      {name: 'diaObjectId', type: 'long'},
      {name: 'ra', type: 'double'},
      {name: 'dec', type: 'double'},
      {name: 'nDiaSources', type: 'int'},
      opt('r_psfFluxMean', 'float'),
    ],
  };
  const alert: Schema = {
    type: 'record',
    namespace: ns,
    name: 'alert',
    fields: [
      {name: 'diaSourceId', type: 'long'},
      {name: 'diaSource', type: `${ns}.diaSource`},
      {
        name: 'prvDiaSources',
        type: ['null', {type: 'array', items: `${ns}.diaSource`}],
        default: null,
      },
      {name: 'diaObject', type: ['null', `${ns}.diaObject`], default: null},
      opt('cutoutDifference', 'bytes'),
      opt('cutoutScience', 'bytes'),
      opt('cutoutTemplate', 'bytes'),
    ],
  };
  return {alert, named: [diaSource, diaObject]};
}

/** The test schema as one self-contained JSON text (what a registry serves). */
export function lsstLikeSchemaText(schemaId = 1101): string {
  const {alert, named} = lsstLikeSchemas(schemaId);
  const ns = alert.namespace as string;
  const defs = new Map(named.map(s => [`${ns}.${s.name}`, s]));
  return JSON.stringify(inlineNamedTypes(alert, defs));
}

/** Writes the test schemas as `root/MAJOR/MINOR/<ns>.<name>.avsc`, like the real folders. */
export async function writeLsstSchemaDir(
  root: string,
  schemaIds: number[] = [1101],
): Promise<void> {
  for (const id of schemaIds) {
    const {alert, named} = lsstLikeSchemas(id);
    const dir = path.join(root, String(Math.floor(id / 100)), String(id % 100));
    await mkdir(dir, {recursive: true});
    for (const s of [alert, ...named]) {
      await writeFile(
        path.join(dir, `${s.namespace}.${s.name}.avsc`),
        JSON.stringify(s, null, 2),
      );
    }
  }
}

/**
 * A schema directory for tests that need both the generated schemas (ids
 * `schemaIds`, e.g. 9901, which no real version uses) and the real LSST
 * folders of `realLsstRoot` (e.g. $ALERT_SCHEMAS_DIR/lsst), linked, not
 * copied, beside them.
 */
export async function writeMixedSchemaDir(
  root: string,
  schemaIds: number[],
  realLsstRoot?: string,
): Promise<void> {
  await writeLsstSchemaDir(root, schemaIds);
  if (!realLsstRoot) return;
  const taken = new Set(schemaIds.map(id => String(Math.floor(id / 100))));
  for (const major of await readdir(realLsstRoot)) {
    if (taken.has(major)) {
      throw new Error(
        `generated schema ids ${schemaIds.join(', ')} collide with ${realLsstRoot}/${major}`,
      );
    }
    await symlink(path.join(realLsstRoot, major), path.join(root, major));
  }
}

const types = new Map<number, avro.Type>();

export function lsstLikeType(schemaId = 1101): avro.Type {
  let t = types.get(schemaId);
  if (!t) {
    t = buildType(JSON.parse(lsstLikeSchemaText(schemaId)));
    types.set(schemaId, t);
  }
  return t;
}

export interface LsstPacketOptions {
  seed?: number;
  /** Schema id in the 5-byte header (default 1101). */
  schemaId?: number;
  /** Previous sources (default 3) or 'null'. */
  prvDiaSources?: number | 'null';
  /** Include diaObject (default true); without it the object id comes from diaSource.diaObjectId / ssObjectId. */
  diaObject?: boolean;
  /** Solar-system source: diaObjectId null, ssObjectId set (implies no diaObject). */
  solarSystem?: boolean;
  /** psfFlux in nJy (default random positive). */
  psfFlux?: number | null;
  /** Bytes per cutout (default 0 = null cutouts). */
  cutoutBytes?: number;
}

function source(
  rng: Random,
  objectId: bigint | null,
  ssObjectId: bigint | null,
  mjd: number,
) {
  return {
    diaSourceId: rng.bigint(2n ** 60n, 2n ** 62n),
    visit: rng.bigint(10n ** 9n, 10n ** 10n),
    detector: rng.int(0, 188),
    diaObjectId: objectId,
    ssObjectId,
    midpointMjdTai: mjd,
    ra: rng.float(0, 360),
    dec: rng.float(-90, 30),
    psfFlux: Math.fround(rng.float(100, 100_000)),
    psfFluxErr: Math.fround(rng.float(10, 500)),
    snr: Math.fround(rng.float(5, 500)),
    band: rng.pick(['u', 'g', 'r', 'i', 'z', 'y']),
  };
}

/** One LSST-like Confluent wire packet: 0x00, int32 schema id, Avro record. */
export function generateLsstPacket(
  opts: LsstPacketOptions = {},
): GeneratedPacket {
  const rng = new Random(opts.seed ?? 1);
  const schemaId = opts.schemaId ?? 1101;
  const type = lsstLikeType(schemaId);
  const ss = opts.solarSystem ?? false;
  const withObject = !ss && (opts.diaObject ?? true);
  const objectId = ss ? null : rng.bigint(2n ** 60n, 2n ** 62n);
  const ssObjectId = ss ? rng.bigint(2n ** 55n, 2n ** 60n) : null;
  const mjd = 60000 + rng.float(0, 3000);
  const dia = source(rng, objectId, ssObjectId, mjd);
  if (opts.psfFlux !== undefined) {
    dia.psfFlux =
      opts.psfFlux === null
        ? (null as unknown as number)
        : Math.fround(opts.psfFlux);
  }
  const nPrv = opts.prvDiaSources ?? 3;
  const prv =
    nPrv === 'null'
      ? null
      : Array.from({length: nPrv}, (_, i) =>
          source(rng, objectId, ssObjectId, mjd - (i + 1)),
        );
  const cut = opts.cutoutBytes ?? 0;
  const record: Record<string, unknown> = {
    diaSourceId: dia.diaSourceId,
    diaSource: dia,
    prvDiaSources: prv,
    diaObject: withObject
      ? {
          diaObjectId: objectId,
          ra: dia.ra,
          dec: dia.dec,
          nDiaSources: (prv?.length ?? 0) + 1,
          r_psfFluxMean: null,
        }
      : null,
    cutoutDifference: cut ? rng.bytes(cut) : null,
    cutoutScience: cut ? rng.bytes(cut) : null,
    cutoutTemplate: cut ? rng.bytes(cut) : null,
  };
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  const bytes = Buffer.concat([header, type.toBuffer(record)]);
  const flux = dia.psfFlux as number | null;
  return {
    bytes,
    records: [record],
    expected: [
      {
        objectId: String(objectId ?? ssObjectId),
        sourceId: dia.diaSourceId.toString(),
        ra: dia.ra,
        dec: dia.dec,
        jd: mjd + 2400000.5,
        mag: flux !== null && flux > 0 ? -2.5 * Math.log10(flux) + 31.4 : null,
        band: dia.band,
        classtar: null,
        nPrevious: prv ? prv.length : withObject ? 0 : null,
      },
    ],
  };
}
