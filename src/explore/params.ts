/**
 * Pure validation of the read API's inputs: path ids and query parameters.
 * Each function returns the parsed value or a {@link BadParameter} naming
 * the parameter, which the handler answers as 400
 * `{"error":"bad-parameter","parameter","detail"}`. Nothing here throws on
 * bad input, and nothing unvalidated reaches a Firestore document path.
 *
 * Query strings are strict: an unknown parameter (a typo such as `magmin`
 * would otherwise be silently ignored) and a parameter given twice are
 * refused too.
 */

import {validateResourceId} from '../ingest/envelope';
import {CUTOUT_KINDS, CutoutKind} from '../store/layout';

export interface BadParameter {
  error: 'bad-parameter';
  parameter: string;
  detail: string;
}

export function badParameter(parameter: string, detail: string): BadParameter {
  return {error: 'bad-parameter', parameter, detail};
}

export function isBadParameter(v: unknown): v is BadParameter {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as {error?: unknown}).error === 'bad-parameter'
  );
}

export const MAX_LIMIT = 500;
export const DEFAULT_LIMIT = 50;
/** Longer than any cursor the API hands out; refused before decoding. */
export const MAX_CURSOR_CHARS = 1024;
/** Source and object ids: longer than any survey's, short enough for a log line. */
export const MAX_ID_CHARS = 256;

export const BANDS = ['u', 'g', 'r', 'i', 'z', 'y'] as const;
export type BandParam = (typeof BANDS)[number];

export const ALERT_FORMATS = ['summary', 'generic', 'lite'] as const;
export type AlertFormat = (typeof ALERT_FORMATS)[number];

export const STRETCHES = ['linear', 'asinh'] as const;
export type Stretch = (typeof STRETCHES)[number];

export interface AlertListParams<C> {
  limit: number;
  cursor: C | null;
  band?: BandParam;
  magMin?: number;
  magMax?: number;
  /** On publishTime: inclusive. */
  since?: Date;
  /** On publishTime: exclusive. */
  until?: Date;
  format: AlertFormat;
}

export interface PageParams<C> {
  limit: number;
  cursor: C | null;
}

/** Decodes an opaque cursor; throws on anything it did not make. */
export type CursorDecoder<C> = (text: string) => C;

// ------------------------------------------------------------- path parts

/** A subscription name, by Pub/Sub's rules (the names ingest stores under). */
export function parseSubscriptionName(v: string): string | BadParameter {
  try {
    return validateResourceId(v);
  } catch (e) {
    return badParameter('subscription', (e as Error).message);
  }
}

// C0 controls, DEL and C1 controls: never part of an id, and they would
// garble logs.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const LONE_SURROGATE =
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function id(
  v: string,
  parameter: string,
  allowSlash: boolean,
): string | BadParameter {
  if (v.length === 0 || v.length > MAX_ID_CHARS) {
    return badParameter(
      parameter,
      `${parameter} must be 1-${MAX_ID_CHARS} characters`,
    );
  }
  if (CONTROL.test(v) || (!allowSlash && v.includes('/'))) {
    return badParameter(
      parameter,
      `${parameter} must not contain control characters${allowSlash ? '' : " or '/'"}`,
    );
  }
  if (LONE_SURROGATE.test(v)) {
    return badParameter(parameter, `${parameter} is not well-formed Unicode`);
  }
  return v;
}

/**
 * A source id (ZTF candid, LSST diaSourceId: exact decimal strings; lite
 * JSON streams may carry other strings). It becomes a document path only
 * through alertDocumentId(), which is a valid document id for any string
 * without '/'.
 */
export function parseSourceId(v: string): string | BadParameter {
  return id(v, 'sourceId', false);
}

/** An object id: compared with the stored `objectId` field, never a path. */
export function parseObjectId(v: string): string | BadParameter {
  return id(v, 'objectId', true);
}

export function parseCutoutKind(v: string): CutoutKind | null {
  return (CUTOUT_KINDS as readonly string[]).includes(v)
    ? (v as CutoutKind)
    : null;
}

// ------------------------------------------------------------ query parts

type Raw = Map<string, string>;

/** Each parameter at most once, and only known ones. */
function collect(
  query: URLSearchParams,
  known: readonly string[],
): Raw | BadParameter {
  const raw: Raw = new Map();
  for (const [k, v] of query) {
    if (!known.includes(k)) {
      return badParameter(
        k.slice(0, 100),
        known.length
          ? `unknown parameter; this route takes ${known.join(', ')}`
          : 'unknown parameter; this route takes none',
      );
    }
    if (raw.has(k)) return badParameter(k, `${k} is given more than once`);
    raw.set(k, v);
  }
  return raw;
}

function limitOf(v: string | undefined): number | BadParameter {
  if (v === undefined) return DEFAULT_LIMIT;
  const n = /^[0-9]{1,3}$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= MAX_LIMIT)) {
    return badParameter('limit', `limit must be an integer in 1..${MAX_LIMIT}`);
  }
  return n;
}

function cursorOf<C>(
  v: string | undefined,
  decode: CursorDecoder<C>,
): C | null | BadParameter {
  if (v === undefined) return null;
  const bad = badParameter(
    'cursor',
    'cursor is not one this API handed out (use the "next" value of the previous page as it is)',
  );
  if (v.length === 0 || v.length > MAX_CURSOR_CHARS) return bad;
  try {
    return decode(v);
  } catch {
    return bad;
  }
}

const DECIMAL = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

function magOf(
  v: string | undefined,
  parameter: string,
): number | undefined | BadParameter {
  if (v === undefined) return undefined;
  const n = DECIMAL.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n)) {
    return badParameter(
      parameter,
      `${parameter} must be a finite decimal number`,
    );
  }
  return n;
}

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):(\d{2}))$/i;

/**
 * An ISO-8601 instant: a date, a time and a zone (`Z` or `±hh:mm`), e.g.
 * `2025-03-01T00:00:00Z`; seconds and fractions optional (fractions beyond
 * milliseconds are cut). Every part is range-checked (no 2025-02-30).
 */
export function parseInstant(v: string): Date | null {
  const m = INSTANT.exec(v);
  if (!m) return null;
  const [y, mo, d, h, mi] = [m[1], m[2], m[3], m[4], m[5]].map(Number);
  const s = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 59) return null;
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  const check = new Date(0);
  check.setUTCFullYear(y, mo - 1, d);
  check.setUTCHours(h, mi, s, ms);
  if (check.getUTCDate() !== d || check.getUTCMonth() !== mo - 1) return null;
  let offsetMin = 0;
  if (m[8].toUpperCase() !== 'Z') {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return null;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return new Date(check.getTime() - offsetMin * 60_000);
}

function instantOf(
  v: string | undefined,
  parameter: string,
): Date | undefined | BadParameter {
  if (v === undefined) return undefined;
  return (
    parseInstant(v) ??
    badParameter(
      parameter,
      `${parameter} must be an ISO-8601 instant with a zone, e.g. 2025-03-01T00:00:00Z`,
    )
  );
}

function oneOf<T extends string>(
  v: string | undefined,
  parameter: string,
  allowed: readonly T[],
  dflt: T,
): T | BadParameter {
  if (v === undefined) return dflt;
  return (allowed as readonly string[]).includes(v)
    ? (v as T)
    : badParameter(
        parameter,
        `${parameter} must be one of ${allowed.join(', ')}`,
      );
}

export const ALERT_LIST_PARAMETERS = [
  'limit',
  'cursor',
  'band',
  'magMin',
  'magMax',
  'since',
  'until',
  'format',
] as const;

/** `GET /api/subscriptions/{name}/alerts?limit=&cursor=&band=&magMin=&magMax=&since=&until=&format=` */
export function parseAlertListParams<C>(
  query: URLSearchParams,
  decodeCursor: CursorDecoder<C>,
): AlertListParams<C> | BadParameter {
  const raw = collect(query, ALERT_LIST_PARAMETERS);
  if (isBadParameter(raw)) return raw;
  const limit = limitOf(raw.get('limit'));
  if (isBadParameter(limit)) return limit;
  const cursor = cursorOf(raw.get('cursor'), decodeCursor);
  if (isBadParameter(cursor)) return cursor;
  const params: AlertListParams<C> = {limit, cursor, format: 'summary'};
  if (raw.has('band')) {
    const band = oneOf(raw.get('band'), 'band', BANDS, 'r');
    if (isBadParameter(band)) return band;
    params.band = band;
  }
  const magMin = magOf(raw.get('magMin'), 'magMin');
  if (isBadParameter(magMin)) return magMin;
  const magMax = magOf(raw.get('magMax'), 'magMax');
  if (isBadParameter(magMax)) return magMax;
  if (magMin !== undefined && magMax !== undefined && magMin > magMax) {
    return badParameter('magMax', 'magMax must not be less than magMin');
  }
  if (magMin !== undefined) params.magMin = magMin;
  if (magMax !== undefined) params.magMax = magMax;
  const since = instantOf(raw.get('since'), 'since');
  if (isBadParameter(since)) return since;
  const until = instantOf(raw.get('until'), 'until');
  if (isBadParameter(until)) return until;
  if (since && until && since.getTime() >= until.getTime()) {
    return badParameter(
      'until',
      'until must be later than since (since is inclusive, until exclusive)',
    );
  }
  if (since) params.since = since;
  if (until) params.until = until;
  const format = oneOf(raw.get('format'), 'format', ALERT_FORMATS, 'summary');
  if (isBadParameter(format)) return format;
  params.format = format;
  return params;
}

/** `?limit=&cursor=` (the quarantine list). */
export function parsePageParams<C>(
  query: URLSearchParams,
  decodeCursor: CursorDecoder<C>,
): PageParams<C> | BadParameter {
  const raw = collect(query, ['limit', 'cursor']);
  if (isBadParameter(raw)) return raw;
  const limit = limitOf(raw.get('limit'));
  if (isBadParameter(limit)) return limit;
  const cursor = cursorOf(raw.get('cursor'), decodeCursor);
  if (isBadParameter(cursor)) return cursor;
  return {limit, cursor};
}

/** `?stretch=linear|asinh` (a stamp PNG); default linear. */
export function parseStretch(query: URLSearchParams): Stretch | BadParameter {
  const raw = collect(query, ['stretch']);
  if (isBadParameter(raw)) return raw;
  return oneOf(raw.get('stretch'), 'stretch', STRETCHES, 'linear');
}

/** Routes that take no parameters. */
export function parseNoParams(query: URLSearchParams): null | BadParameter {
  const raw = collect(query, []);
  return isBadParameter(raw) ? raw : null;
}
