/**
 * Compiles a validated filter to closures, once. Evaluation never parses a
 * path or looks at the filter's JSON again.
 *
 * Semantics (see README.md):
 * - a comparison (`lt` .. `between`, `eq`, `ne`, `in`) with a missing, null
 *   or NaN value is false, never an error; `isNull` / `exists` test for it;
 * - Avro longs (bigint) compare exactly with numbers, and equal a string
 *   value when their decimal form is that string (exact ids);
 * - there is no coercion otherwise: the string "1" does not equal 1, except
 *   that numeric comparisons on message attributes (strings) parse them as
 *   decimal numbers.
 */

import type {Alert} from '../alert/model';
import {SUMMARY_SKIPPED_FIELDS} from '../alert/summary-reader';
import {PermanentError} from '../errors';
import {FieldRef, NORMALIZED_FIELDS, readPath, resolveField} from './fields';
import {
  Cone,
  Filter,
  Leaf,
  MaybeFilter,
  Scalar,
  isAll,
  isAny,
  isCone,
  isLeaf,
} from './types';

export type Attributes = Readonly<Record<string, string>>;
export type Predicate = (alert: Alert, attributes?: Attributes) => boolean;
export type Getter = (alert: Alert, attributes?: Attributes) => unknown;

export interface CompiledFilter {
  /** The validated filter it was compiled from (`null`: everything passes). */
  readonly filter: MaybeFilter;
  /** Whether some leaf reads `attributes.*`. */
  readonly readsAttributes: boolean;
  /**
   * Whether some leaf reads what a summary decode leaves out (histories,
   * cutouts, `nPrevious`: ../alert/summary-reader.ts); when not, the filter
   * decides on a summary alert exactly as on the full one.
   */
  readonly readsFullRecord: boolean;
  /** The decision for one alert and its message attributes. */
  matches(alert: Alert, attributes?: Attributes): boolean;
}

/** Missing, null or NaN. */
export function isNullish(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'number' && v !== v);
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A message attribute read as a number: integers exactly (as bigint). */
function parseAttributeNumber(s: string): number | bigint | undefined {
  if (INTEGER.test(s)) return BigInt(s);
  if (DECIMAL.test(s)) return Number(s);
  return undefined;
}

/**
 * A number threshold, prepared for exact comparison with numbers and
 * bigints. Returns the sign of (x - t), or NaN when x is not a number.
 */
function comparator(t: number, parseStrings: boolean): (x: unknown) => number {
  const isInt = Number.isInteger(t);
  const floor = BigInt(Math.floor(t));
  const big = (x: bigint) =>
    isInt ? (x < floor ? -1 : x > floor ? 1 : 0) : x <= floor ? -1 : 1;
  return (x: unknown) => {
    if (typeof x === 'number')
      return x < t ? -1 : x > t ? 1 : x === t ? 0 : NaN;
    if (typeof x === 'bigint') return big(x);
    if (parseStrings && typeof x === 'string') {
      const p = parseAttributeNumber(x);
      if (typeof p === 'bigint') return big(p);
      if (typeof p === 'number')
        return p < t ? -1 : p > t ? 1 : p === t ? 0 : NaN;
    }
    return NaN;
  };
}

/** Equality with one of a set of scalars, with exact bigint handling. */
function membership(values: readonly Scalar[]): (x: unknown) => boolean {
  const nums = new Set<number>();
  const bigs = new Set<bigint>();
  const strs = new Set<string>();
  const bools = new Set<boolean>();
  for (const v of values) {
    if (typeof v === 'number') {
      nums.add(v);
      if (Number.isInteger(v)) bigs.add(BigInt(v));
    } else if (typeof v === 'string') strs.add(v);
    else bools.add(v);
  }
  if (values.length === 1) {
    const v = values[0];
    if (typeof v === 'string') {
      return x => x === v || (typeof x === 'bigint' && x.toString() === v);
    }
    if (typeof v === 'number') {
      const b = Number.isInteger(v) ? BigInt(v) : undefined;
      return x => x === v || (typeof x === 'bigint' && x === b);
    }
    return x => x === v;
  }
  return x => {
    switch (typeof x) {
      case 'number':
        return nums.has(x);
      case 'string':
        return strs.has(x);
      case 'bigint':
        return bigs.has(x) || strs.has(x.toString());
      case 'boolean':
        return bools.has(x);
      default:
        return false;
    }
  };
}

export function getterFor(ref: FieldRef): Getter {
  switch (ref.type) {
    case 'normalized':
      return NORMALIZED_FIELDS[ref.name].get;
    case 'attribute': {
      const key = ref.key;
      return (_a, at) =>
        at !== undefined && Object.hasOwn(at, key) ? at[key] : undefined;
    }
    case 'raw': {
      const path = ref.path;
      if (path.length === 2) {
        const [p0, p1] = path;
        return a => {
          const r = a.record;
          if (r === null || typeof r !== 'object' || !Object.hasOwn(r, p0)) {
            return undefined;
          }
          const o = r[p0];
          if (o === null || typeof o !== 'object' || !Object.hasOwn(o, p1)) {
            return undefined;
          }
          return (o as Record<string, unknown>)[p1];
        };
      }
      return a => readPath(a.record, path);
    }
  }
}

/** The value test of a leaf, independent of where the value comes from. */
export function leafTest(leaf: Leaf, ref: FieldRef): (v: unknown) => boolean {
  const parse = ref.type === 'attribute';
  const v = leaf.value;
  switch (leaf.op) {
    case 'exists':
      return x => !isNullish(x);
    case 'isNull':
      return isNullish;
    case 'lt': {
      const c = comparator(v as number, parse);
      return x => c(x) < 0;
    }
    case 'lte': {
      const c = comparator(v as number, parse);
      return x => c(x) <= 0;
    }
    case 'gt': {
      const c = comparator(v as number, parse);
      return x => c(x) > 0;
    }
    case 'gte': {
      const c = comparator(v as number, parse);
      return x => c(x) >= 0;
    }
    case 'between': {
      const [lo, hi] = v as [number, number];
      const cl = comparator(lo, parse);
      const ch = comparator(hi, parse);
      return x => cl(x) >= 0 && ch(x) <= 0;
    }
    case 'eq':
      return membership([v as Scalar]);
    case 'ne': {
      const eq = membership([v as Scalar]);
      return x => !isNullish(x) && !eq(x);
    }
    case 'in':
      return membership(v as Scalar[]);
  }
}

const DEG = Math.PI / 180;

export interface ConeTest {
  test(a: Alert): boolean;
  /** Great-circle distance from the centre in arcsec; null without coordinates. */
  distanceArcsec(a: Alert): number | null;
}

/**
 * A sky cone by the haversine formula: exact across RA 0/360 and at the
 * poles, and accurate for radii from milliarcseconds up to 180 degrees.
 */
export function coneTest(c: Cone['cone']): ConeTest {
  const ra0 = c.ra * DEG;
  const dec0 = c.dec * DEG;
  const cosDec0 = Math.cos(dec0);
  const all = c.radiusArcsec >= 180 * 3600;
  const s = Math.sin((c.radiusArcsec / 3600) * DEG * 0.5);
  const limit = s * s;
  const hav = (a: Alert): number | null => {
    const ra = a.ra;
    const dec = a.dec;
    if (typeof ra !== 'number' || typeof dec !== 'number') return null;
    if (ra !== ra || dec !== dec) return null;
    const d = dec * DEG;
    const sd = Math.sin((d - dec0) * 0.5);
    const sr = Math.sin((ra * DEG - ra0) * 0.5);
    return sd * sd + cosDec0 * Math.cos(d) * sr * sr;
  };
  return {
    test: a => {
      const h = hav(a);
      return h !== null && (all || h <= limit);
    },
    distanceArcsec: a => {
      const h = hav(a);
      if (h === null) return null;
      return ((2 * Math.asin(Math.sqrt(Math.min(1, h)))) / DEG) * 3600;
    },
  };
}

export function resolved(leaf: Leaf): FieldRef {
  const ref = resolveField(leaf.field);
  // validateFilter refuses unresolvable fields; a hand-built Filter may not.
  if (typeof ref === 'string') {
    throw new PermanentError('invalid-filter', `${leaf.field}: ${ref}`);
  }
  return ref;
}

interface Flags {
  attributes: boolean;
  fullRecord: boolean;
}

/** Whether a field is one that a summary decode does not hold. */
function needsFullRecord(ref: FieldRef): boolean {
  if (ref.type === 'normalized') return ref.name === 'nPrevious';
  return ref.type === 'raw' && SUMMARY_SKIPPED_FIELDS.has(ref.path[0]);
}

function compileNode(f: Filter, flags: Flags): Predicate {
  if (isLeaf(f)) {
    const ref = resolved(f);
    if (ref.type === 'attribute') flags.attributes = true;
    if (needsFullRecord(ref)) flags.fullRecord = true;
    const get = getterFor(ref);
    const test = leafTest(f, ref);
    return (a, at) => test(get(a, at));
  }
  if (isCone(f)) {
    const t = coneTest(f.cone).test;
    return a => t(a);
  }
  if (isAll(f) || isAny(f)) {
    const children = (isAll(f) ? f.all : f.any).map(c => compileNode(c, flags));
    const want = isAny(f);
    if (children.length === 1) return children[0];
    if (children.length === 2) {
      const [x, y] = children;
      return want
        ? (a, at) => x(a, at) || y(a, at)
        : (a, at) => x(a, at) && y(a, at);
    }
    return (a, at) => {
      for (let i = 0; i < children.length; i++) {
        if (children[i](a, at) === want) return want;
      }
      return !want;
    };
  }
  const inner = compileNode(f.not, flags);
  return (a, at) => !inner(a, at);
}

/**
 * Compiles a validated filter (from {@link validateFilter}); `null` compiles
 * to a filter that lets everything pass.
 */
export function compileFilter(filter: MaybeFilter): CompiledFilter {
  if (filter === null) {
    return {
      filter,
      readsAttributes: false,
      readsFullRecord: false,
      matches: () => true,
    };
  }
  const flags: Flags = {attributes: false, fullRecord: false};
  const matches = compileNode(filter, flags);
  return {
    filter,
    readsAttributes: flags.attributes,
    readsFullRecord: flags.fullRecord,
    matches,
  };
}
