/**
 * What a leaf's `field` names: a normalized alert field, a message attribute
 * (`attributes.KEY`) or a raw dot path into the decoded record
 * (`candidate.rb`, `record.candid`). Resolved once, at validation / compile
 * time; evaluation never parses a path.
 */

import type {Alert} from '../alert/model';

export type FieldKind = 'number' | 'string' | 'id';

interface NormalizedField {
  kind: FieldKind;
  /** Allowed values, when the field is an enumeration. */
  values?: readonly string[];
  get(a: Alert): unknown;
}

/** Survey-neutral fields of the normalized {@link Alert}. */
export const NORMALIZED_FIELDS: Readonly<Record<string, NormalizedField>> = {
  objectId: {kind: 'id', get: a => a.objectId},
  sourceId: {kind: 'id', get: a => a.sourceId},
  survey: {kind: 'string', values: ['ztf', 'lsst'], get: a => a.survey},
  format: {
    kind: 'string',
    values: ['avro-ocf', 'confluent-wire', 'json'],
    get: a => a.format,
  },
  schemaVersion: {kind: 'string', get: a => a.schemaVersion},
  band: {
    kind: 'string',
    values: ['u', 'g', 'r', 'i', 'z', 'y'],
    get: a => a.band,
  },
  ra: {kind: 'number', get: a => a.ra},
  dec: {kind: 'number', get: a => a.dec},
  jd: {kind: 'number', get: a => a.jd},
  mjd: {kind: 'number', get: a => a.mjd},
  mag: {kind: 'number', get: a => a.mag},
  magErr: {kind: 'number', get: a => a.magErr},
  nPrevious: {kind: 'number', get: a => a.nPrevious},
  classtar: {kind: 'number', get: a => a.classtar},
};

/**
 * Top-level names of the decoded records (ZTF Avro 3.x/4.x, LSST v7-v11,
 * ZTF lite JSON old and new). A raw path must start with one of them, so that
 * a misspelled root is refused rather than silently never matching. Deeper
 * segments are not checked: schemas differ between versions.
 */
export const RECORD_ROOTS: ReadonlySet<string> = new Set([
  // ZTF alert packets
  'schemavsn',
  'publisher',
  'objectId',
  'candid',
  'candidate',
  'prv_candidates',
  'fp_hists',
  'cutoutScience',
  'cutoutTemplate',
  'cutoutDifference',
  // LSST alert packets
  'alertId',
  'diaSourceId',
  'observation_reason',
  'target_name',
  'diaSource',
  'prvDiaSources',
  'prvDiaForcedSources',
  'prvDiaNondetectionLimits',
  'diaObject',
  'ssObject',
  'ssSource',
  'MPCORB',
  'mpc_orbits',
  // ZTF lite JSON
  'alert_lite',
  'alertIds',
  'source',
  'prvSources',
  'xmatch',
]);

/** Path segments that would reach an object's prototype machinery. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

const SEGMENT = /^(?:[A-Za-z_][A-Za-z0-9_]*|0|[1-9][0-9]{0,5})$/;
/** Pub/Sub attribute keys: anything printable but no control characters. */
const ATTRIBUTE_KEY = /^\P{Cc}{1,256}$/u;

export type FieldRef =
  | {
      type: 'normalized';
      name: string;
      kind: FieldKind;
      values?: readonly string[];
    }
  | {type: 'attribute'; key: string}
  | {type: 'raw'; path: string[]};

/**
 * Resolves a field name, or returns a human-readable reason why it is not
 * one.
 */
export function resolveField(field: string): FieldRef | string {
  if (Object.hasOwn(NORMALIZED_FIELDS, field)) {
    const f = NORMALIZED_FIELDS[field];
    return {type: 'normalized', name: field, kind: f.kind, values: f.values};
  }
  if (field.startsWith('attributes.')) {
    const key = field.slice('attributes.'.length);
    if (!ATTRIBUTE_KEY.test(key)) {
      return `"${field}" is not a valid message attribute name`;
    }
    return {type: 'attribute', key};
  }
  const rest = field.startsWith('record.')
    ? field.slice('record.'.length)
    : field;
  const path = rest.split('.');
  if (path.length < 2 && rest === field) {
    return (
      `unknown field "${field}": use a normalized field (` +
      `${Object.keys(NORMALIZED_FIELDS).join(', ')}), a raw path into the ` +
      'record ("candidate.rb", "record.candid") or "attributes.KEY"'
    );
  }
  for (const seg of path) {
    if (FORBIDDEN_SEGMENTS.has(seg)) {
      return `"${field}": the path segment "${seg}" is not allowed`;
    }
    if (!SEGMENT.test(seg)) {
      return `"${field}": "${seg}" is not a valid path segment (letters, digits, "_", or an array index)`;
    }
  }
  if (!RECORD_ROOTS.has(path[0])) {
    return `unknown field "${field}": "${path[0]}" is not a top-level field of ZTF or LSST alert records`;
  }
  return {type: 'raw', path};
}

/**
 * Reads a raw path: own properties only, so `__proto__`, `constructor` or an
 * inherited name never reach the prototype chain. Missing → undefined.
 */
export function readPath(root: unknown, path: readonly string[]): unknown {
  let cur: unknown = root;
  for (let i = 0; i < path.length; i++) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (!Object.hasOwn(cur, path[i])) return undefined;
    cur = (cur as Record<string, unknown>)[path[i]];
  }
  return cur;
}
