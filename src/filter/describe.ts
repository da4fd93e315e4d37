/**
 * A stored filter in words, for people reading the explorer or the read
 * API: `{"all": [{"field": "classtar", "op": "gte", "value": 0.5}, ...]}` →
 * `classtar is at least 0.5 and ...`. String values are quoted as JSON, so
 * the text never hides where a value starts or ends. The words are plain
 * text (the explorer shows them with DOM text APIs, never as markup).
 */

import {Filter, isAll, isAny, isCone, isLeaf, Leaf, MaybeFilter} from './types';

const OP_WORDS: Record<string, string> = {
  lt: 'is less than',
  lte: 'is at most',
  gt: 'is greater than',
  gte: 'is at least',
  eq: 'equals',
  ne: 'is present and differs from',
};

function value(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function leaf(f: Leaf): string {
  switch (f.op) {
    case 'exists':
      return `${f.field} is present`;
    case 'isNull':
      return `${f.field} is missing or null`;
    case 'between': {
      const [lo, hi] = f.value as [number, number];
      return `${f.field} is between ${value(lo)} and ${value(hi)}`;
    }
    case 'in':
      return `${f.field} is one of ${(f.value as unknown[]).map(value).join(', ')}`;
    default:
      return `${f.field} ${OP_WORDS[f.op] ?? f.op} ${value(f.value)}`;
  }
}

function node(f: Filter, nested: boolean): string {
  if (isLeaf(f)) return leaf(f);
  if (isCone(f)) {
    const {ra, dec, radiusArcsec} = f.cone;
    return `within ${radiusArcsec} arcsec of ra ${ra}, dec ${dec}`;
  }
  const paren = (s: string) => (nested ? `(${s})` : s);
  if (isAll(f)) return paren(f.all.map(c => node(c, true)).join(' and '));
  if (isAny(f)) return paren(f.any.map(c => node(c, true)).join(' or '));
  return `not (${node(f.not, false)})`;
}

/** The filter in words; `null` (no filter): every alert passes. */
export function describeFilter(filter: MaybeFilter): string {
  if (filter === null) return 'every alert passes (no filter)';
  return node(filter, false);
}
