/**
 * The stored user filter language: its validated syntax tree and limits.
 * A stored filter is JSON; {@link validateFilter} turns untrusted JSON into a
 * {@link Filter} (or refuses it), {@link compileFilter} turns a Filter into
 * closures. `null` is the empty filter: every alert passes.
 */

/** Leaf operators. */
export type Op =
  | 'lt'
  | 'lte'
  | 'gt'
  | 'gte'
  | 'eq'
  | 'ne'
  | 'in'
  | 'between'
  | 'exists'
  | 'isNull';

export const OPS: readonly Op[] = [
  'lt',
  'lte',
  'gt',
  'gte',
  'eq',
  'ne',
  'in',
  'between',
  'exists',
  'isNull',
];

/** A scalar a leaf compares with. */
export type Scalar = number | string | boolean;

export type LeafValue = Scalar | Scalar[] | [number, number] | undefined;

export interface Leaf {
  field: string;
  op: Op;
  /** Absent for `exists` / `isNull`; an array for `in` / `between`. */
  value?: LeafValue;
}

export interface Cone {
  cone: {ra: number; dec: number; radiusArcsec: number};
}

export interface All {
  all: Filter[];
}

export interface Any {
  any: Filter[];
}

export interface Not {
  not: Filter;
}

/** A validated filter node. */
export type Filter = Leaf | Cone | All | Any | Not;

/** The filter that lets everything pass (no stored filter). */
export type MaybeFilter = Filter | null;

export const LIMITS = {
  /** Maximum nesting: a lone leaf is depth 1. */
  maxDepth: 16,
  /** Maximum number of nodes (leaves, cones and combinators). */
  maxNodes: 256,
  /** Maximum number of values of an `in` leaf. */
  maxInValues: 1000,
  /** Maximum length of a string value or of a field name. */
  maxStringLength: 256,
  /** Pub/Sub's documented maximum length of a subscription filter, in bytes. */
  maxSubscriptionFilterBytes: 256,
} as const;

export function isLeaf(f: Filter): f is Leaf {
  return 'field' in f;
}
export function isCone(f: Filter): f is Cone {
  return 'cone' in f;
}
export function isAll(f: Filter): f is All {
  return 'all' in f;
}
export function isAny(f: Filter): f is Any {
  return 'any' in f;
}
export function isNot(f: Filter): f is Not {
  return 'not' in f;
}
