/**
 * The one validator of stored filters, shared by the HTTP function, the CLI
 * and the API. It refuses anything that is not exactly the language: unknown
 * keys or names, wrong value types, empty combinators, out-of-range cones,
 * filters deeper than 16 levels or larger than 256 nodes. Every refusal is a
 * PermanentError 'invalid-filter' whose message starts with the JSON path of
 * the offending node (`$.all[2].value`), also given as `details.path`.
 */

import {PermanentError} from '../errors';
import {FieldRef, resolveField} from './fields';
import {Filter, LIMITS, Leaf, MaybeFilter, Op, OPS, Scalar} from './types';

const NUMERIC_OPS: ReadonlySet<Op> = new Set(['lt', 'lte', 'gt', 'gte']);

function fail(path: string, message: string): never {
  throw new PermanentError('invalid-filter', `${path}: ${message}`, {path});
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return typeof v === 'object'
    ? 'an object'
    : `${typeof v} ${JSON.stringify(v)}`;
}

function finiteNumber(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    fail(path, `expected a finite number, got ${describe(v)}`);
  }
  return v;
}

function onlyKeys(
  node: Record<string, unknown>,
  allowed: readonly string[],
  path: string,
): void {
  for (const k of Object.keys(node)) {
    if (!allowed.includes(k)) {
      fail(path, `unknown key "${k}" (allowed here: ${allowed.join(', ')})`);
    }
  }
}

interface Counter {
  nodes: number;
}

/** Checks one scalar against the field it is compared with. */
function scalarFor(ref: FieldRef, v: unknown, path: string): Scalar {
  switch (ref.type) {
    case 'normalized':
      if (ref.kind === 'number') return finiteNumber(v, path);
      if (typeof v !== 'string') {
        fail(
          path,
          `"${ref.name}" is ${ref.kind === 'id' ? 'an id (an exact decimal string)' : 'a string'}; expected a string, got ${describe(v)}`,
        );
      }
      if (ref.values && !ref.values.includes(v)) {
        fail(
          path,
          `"${ref.name}" is one of ${ref.values.join(', ')}; got "${v}"`,
        );
      }
      return v;
    case 'attribute':
      if (typeof v !== 'string') {
        fail(
          path,
          `message attributes are strings; expected a string, got ${describe(v)}`,
        );
      }
      return v;
    case 'raw':
      if (typeof v === 'number') return finiteNumber(v, path);
      if (typeof v === 'string' || typeof v === 'boolean') return v;
      return fail(
        path,
        `expected a number, string or boolean, got ${describe(v)}`,
      );
  }
}

function checkString(v: Scalar, path: string): void {
  if (typeof v === 'string' && v.length > LIMITS.maxStringLength) {
    fail(path, `string longer than ${LIMITS.maxStringLength} characters`);
  }
}

function validateLeaf(node: Record<string, unknown>, path: string): Leaf {
  onlyKeys(node, ['field', 'op', 'value'], path);
  const field = node.field;
  if (typeof field !== 'string' || field === '') {
    fail(`${path}.field`, `expected a field name, got ${describe(field)}`);
  }
  if (field.length > LIMITS.maxStringLength) {
    fail(`${path}.field`, 'field name too long');
  }
  const ref = resolveField(field);
  if (typeof ref === 'string') fail(`${path}.field`, ref);
  const op = node.op;
  if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) {
    fail(
      `${path}.op`,
      `unknown operator ${describe(op)} (one of ${OPS.join(', ')})`,
    );
  }
  const vpath = `${path}.value`;
  const has = Object.hasOwn(node, 'value');
  const value = node.value;
  switch (op as Op) {
    case 'exists':
    case 'isNull':
      if (has) fail(vpath, `"${op}" takes no value`);
      return {field, op: op as Op};
    case 'in': {
      if (!Array.isArray(value) || value.length === 0) {
        fail(
          vpath,
          `"in" needs a non-empty array of values, got ${describe(value)}`,
        );
      }
      if (value.length > LIMITS.maxInValues) {
        fail(vpath, `"in" takes at most ${LIMITS.maxInValues} values`);
      }
      const out = value.map((v, i) => {
        const s = scalarFor(ref, v, `${vpath}[${i}]`);
        checkString(s, `${vpath}[${i}]`);
        return s;
      });
      return {field, op: 'in', value: out};
    }
    case 'between': {
      if (!Array.isArray(value) || value.length !== 2) {
        fail(vpath, `"between" needs [low, high], got ${describe(value)}`);
      }
      if (ref.type === 'normalized' && ref.kind !== 'number') {
        fail(
          `${path}.op`,
          `"between" needs a numeric field; "${field}" is a ${ref.kind === 'id' ? 'id' : 'string'}`,
        );
      }
      const lo = finiteNumber(value[0], `${vpath}[0]`);
      const hi = finiteNumber(value[1], `${vpath}[1]`);
      if (lo > hi) fail(vpath, `low (${lo}) is above high (${hi})`);
      return {field, op: 'between', value: [lo, hi]};
    }
    default: {
      if (!has) fail(vpath, `"${op}" needs a value`);
      if (NUMERIC_OPS.has(op as Op)) {
        if (ref.type === 'normalized' && ref.kind !== 'number') {
          fail(
            `${path}.op`,
            `"${op}" needs a numeric field; "${field}" is a ${ref.kind === 'id' ? 'id' : 'string'}`,
          );
        }
        return {field, op: op as Op, value: finiteNumber(value, vpath)};
      }
      const s = scalarFor(ref, value, vpath);
      checkString(s, vpath);
      return {field, op: op as Op, value: s};
    }
  }
}

function validateNode(
  json: unknown,
  path: string,
  depth: number,
  counter: Counter,
): Filter {
  if (depth > LIMITS.maxDepth) {
    fail(path, `filter too deep (more than ${LIMITS.maxDepth} levels)`);
  }
  if (++counter.nodes > LIMITS.maxNodes) {
    fail(path, `filter too large (more than ${LIMITS.maxNodes} nodes)`);
  }
  if (!isPlainObject(json)) {
    fail(path, `expected a filter object, got ${describe(json)}`);
  }
  const has = (k: string) => Object.hasOwn(json, k);
  const kinds = ['field', 'all', 'any', 'not', 'cone'].filter(has);
  if (kinds.length !== 1) {
    fail(
      path,
      kinds.length === 0
        ? `expected one of "field" (a leaf), "all", "any", "not" or "cone"; got keys ${JSON.stringify(Object.keys(json))}`
        : `a node is exactly one of a leaf, "all", "any", "not" or "cone"; got ${kinds.join(' and ')}`,
    );
  }
  const kind = kinds[0];
  if (kind === 'field') return validateLeaf(json, path);
  onlyKeys(json, [kind], path);
  const inner = json[kind];
  const ipath = `${path}.${kind}`;
  if (kind === 'all' || kind === 'any') {
    if (!Array.isArray(inner)) {
      fail(ipath, `expected an array of filters, got ${describe(inner)}`);
    }
    if (inner.length === 0) fail(ipath, `empty "${kind}"`);
    const children = inner.map((c, i) =>
      validateNode(c, `${ipath}[${i}]`, depth + 1, counter),
    );
    return kind === 'all' ? {all: children} : {any: children};
  }
  if (kind === 'not') {
    return {not: validateNode(inner, ipath, depth + 1, counter)};
  }
  // cone
  if (!isPlainObject(inner)) {
    fail(
      ipath,
      `expected {"ra", "dec", "radiusArcsec"}, got ${describe(inner)}`,
    );
  }
  onlyKeys(inner, ['ra', 'dec', 'radiusArcsec'], ipath);
  for (const k of ['ra', 'dec', 'radiusArcsec']) {
    if (!Object.hasOwn(inner, k)) fail(ipath, `missing "${k}"`);
  }
  const ra = finiteNumber(inner.ra, `${ipath}.ra`);
  const dec = finiteNumber(inner.dec, `${ipath}.dec`);
  const r = finiteNumber(inner.radiusArcsec, `${ipath}.radiusArcsec`);
  if (ra < 0 || ra >= 360)
    fail(`${ipath}.ra`, `ra must be in [0, 360) degrees, got ${ra}`);
  if (dec < -90 || dec > 90)
    fail(`${ipath}.dec`, `dec must be in [-90, 90] degrees, got ${dec}`);
  if (!(r > 0) || r > 180 * 3600) {
    fail(
      `${ipath}.radiusArcsec`,
      `radiusArcsec must be in (0, 648000] (180 degrees), got ${r}`,
    );
  }
  return {cone: {ra, dec, radiusArcsec: r}};
}

/**
 * Validates untrusted JSON (already parsed) as a filter. `null` is the empty
 * filter (everything passes). Returns a fresh copy holding only the
 * language's keys; throws PermanentError 'invalid-filter' with
 * `details.path`.
 */
export function validateFilter(json: unknown): MaybeFilter {
  if (json === null) return null;
  return validateNode(json, '$', 1, {nodes: 0});
}

/** Parses and validates a filter from JSON text. */
export function parseFilter(text: string): MaybeFilter {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PermanentError(
      'invalid-filter',
      `$: not JSON: ${e instanceof Error ? e.message : String(e)}`,
      {path: '$'},
    );
  }
  return validateFilter(json);
}
