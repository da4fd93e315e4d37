/**
 * The server-side part of a filter: the conjuncts that read only message
 * attributes, compiled to a Pub/Sub subscription filter expression, so that
 * Pub/Sub acknowledges (drops) non-matching messages before delivery.
 *
 * Guarantee: for every message, `filter` true ⇒ `expression` true (on a
 * stream whose attributes are what {@link SubscriptionFilterOptions} says).
 * The expression is only an optimisation: the ingest function and the pull
 * consumer still evaluate the whole filter in-process.
 *
 * Pub/Sub's filter syntax has `attributes.K = "v"`, `!=`, `attributes:K`
 * (has key), `hasPrefix(...)`, `AND` / `OR` / `NOT` and parentheses; no
 * numeric comparison (attribute values are strings). Its documented maximum
 * length is 256 bytes.
 */

import {resolveField} from './fields';
import {Filter, LIMITS, Leaf, MaybeFilter, Scalar} from './types';

export interface SubscriptionFilterOptions {
  /**
   * The topic's messages carry `objectId` and `candid` attributes equal to
   * the alert's objectId and sourceId (true of Pitt-Google's ZTF streams):
   * then `objectId` / `sourceId` leaves compile to those attributes.
   * Default false.
   */
  idAttributes?: boolean;
  /** Byte limit of the expression (default: Pub/Sub's 256). */
  maxBytes?: number;
}

export interface SubscriptionFilterPlan {
  /** The Pub/Sub filter expression, or null when no part runs server-side. */
  expression: string | null;
  /** The part of the filter that `expression` is equivalent to. */
  serverSide: Filter | null;
  /** The part that only the in-process evaluator can decide. */
  inProcess: Filter | null;
}

/** Whether a Pitt-Google topic's messages carry `objectId` / `candid` attributes. */
export function topicHasIdAttributes(topic: string): boolean {
  const name = topic.slice(topic.lastIndexOf('/') + 1);
  return name.startsWith('ztf-');
}

type Kind = 'atom' | 'and' | 'or' | 'not';
interface Expr {
  text: string;
  kind: Kind;
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

function lit(s: string): string {
  return JSON.stringify(s);
}

function attr(key: string): string {
  return BARE_KEY.test(key) ? `attributes.${key}` : `attributes.${lit(key)}`;
}

function has(key: string): string {
  return BARE_KEY.test(key) ? `attributes:${key}` : `attributes:${lit(key)}`;
}

function join(parts: Expr[], op: 'and' | 'or'): Expr {
  if (parts.length === 1) return parts[0];
  const word = op === 'and' ? ' AND ' : ' OR ';
  return {
    text: parts
      .map(p => (p.kind === 'atom' || p.kind === op ? p.text : `(${p.text})`))
      .join(word),
    kind: op,
  };
}

/** The attribute a leaf reads, when it is equivalent to one. */
function attributeKey(leaf: Leaf, o: SubscriptionFilterOptions): string | null {
  const ref = resolveField(leaf.field);
  if (typeof ref === 'string') return null;
  if (ref.type === 'attribute') return ref.key;
  if (o.idAttributes && ref.type === 'normalized') {
    if (ref.name === 'objectId') return 'objectId';
    if (ref.name === 'sourceId') return 'candid';
  }
  return null;
}

function leafExpr(leaf: Leaf, o: SubscriptionFilterOptions): Expr | null {
  const key = attributeKey(leaf, o);
  if (key === null) return null;
  const isAttr = leaf.field.startsWith('attributes.');
  const eq = (v: Scalar): Expr => ({
    text: `${attr(key)} = ${lit(String(v))}`,
    kind: 'atom',
  });
  switch (leaf.op) {
    case 'eq':
      return eq(leaf.value as string);
    case 'in':
      return join((leaf.value as string[]).map(eq), 'or');
    case 'ne':
      // In-process, `ne` is false when the attribute is missing: say so
      // explicitly rather than rely on how `!=` treats a missing key.
      return join(
        [
          {text: has(key), kind: 'atom'},
          {text: `${attr(key)} != ${lit(String(leaf.value))}`, kind: 'atom'},
        ],
        'and',
      );
    case 'exists':
      // Attribute values are strings, never null: exists = has the key.
      // (objectId / sourceId always exist in-process; nothing to gain.)
      return isAttr ? {text: has(key), kind: 'atom'} : null;
    case 'isNull':
      return isAttr ? {text: `NOT ${has(key)}`, kind: 'not'} : null;
    default:
      return null; // numeric comparisons: attributes are strings
  }
}

function nodeExpr(f: Filter, o: SubscriptionFilterOptions): Expr | null {
  if ('field' in f) return leafExpr(f, o);
  if ('cone' in f) return null;
  if ('not' in f) {
    const inner = nodeExpr(f.not, o);
    if (!inner) return null;
    return {
      text: inner.kind === 'atom' ? `NOT ${inner.text}` : `NOT (${inner.text})`,
      kind: 'not',
    };
  }
  const children = 'all' in f ? f.all : f.any;
  const parts: Expr[] = [];
  for (const c of children) {
    const e = nodeExpr(c, o);
    if (!e) return null;
    parts.push(e);
  }
  return join(parts, 'all' in f ? 'and' : 'or');
}

function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function conj(parts: Filter[]): Filter | null {
  return parts.length === 0
    ? null
    : parts.length === 1
      ? parts[0]
      : {all: parts};
}

/**
 * Splits a validated filter into a server-side part (compiled to a Pub/Sub
 * filter expression within the byte limit) and an in-process part. Only
 * the whole filter, or conjuncts of a top-level `all`, can run server-side.
 */
export function toSubscriptionFilter(
  filter: MaybeFilter,
  options: SubscriptionFilterOptions = {},
): SubscriptionFilterPlan {
  const max = options.maxBytes ?? LIMITS.maxSubscriptionFilterBytes;
  if (filter === null) {
    return {expression: null, serverSide: null, inProcess: null};
  }
  const whole = nodeExpr(filter, options);
  if (whole && bytes(whole.text) <= max) {
    return {expression: whole.text, serverSide: filter, inProcess: null};
  }
  if (!('all' in filter)) {
    return {expression: null, serverSide: null, inProcess: filter};
  }
  const server: Filter[] = [];
  const serverExpr: Expr[] = [];
  const rest: Filter[] = [];
  for (const c of filter.all) {
    const e = nodeExpr(c, options);
    if (e && bytes(join([...serverExpr, e], 'and').text) <= max) {
      server.push(c);
      serverExpr.push(e);
    } else {
      rest.push(c);
    }
  }
  return {
    expression: serverExpr.length ? join(serverExpr, 'and').text : null,
    serverSide: conj(server),
    inProcess: conj(rest),
  };
}
