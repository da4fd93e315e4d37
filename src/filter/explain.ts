/**
 * `explain(filter, alert)`: evaluates every node (no short-circuit) and says
 * which held, with the value each leaf read, for debugging a stored filter.
 */

import type {Alert} from '../alert/model';
import {Attributes, coneTest, getterFor, leafTest, resolved} from './compile';
import {Filter, MaybeFilter, isAll, isAny, isCone, isLeaf} from './types';

export interface ExplainedNode {
  /** JSON path of the node in the filter, as in validation messages. */
  path: string;
  kind: 'leaf' | 'cone' | 'all' | 'any' | 'not';
  held: boolean;
  /** Leaves: the field, operator and value of the leaf. */
  field?: string;
  op?: string;
  value?: unknown;
  /** Leaves: the value read from the alert (bigint as a decimal string). */
  actual?: unknown;
  /** Cones: the distance from the centre (null without coordinates). */
  distanceArcsec?: number | null;
}

export interface Explanation {
  matches: boolean;
  /** Every node, in document order (parents before children). */
  nodes: ExplainedNode[];
}

/** A JSON-printable view of a value read from a record. */
function printable(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v === undefined) return null;
  if (Buffer.isBuffer(v)) return `<${v.length} bytes>`;
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (v !== null && typeof v === 'object') {
    return Array.isArray(v) ? `<array of ${v.length}>` : '<object>';
  }
  return v;
}

function walk(
  f: Filter,
  path: string,
  alert: Alert,
  attributes: Attributes | undefined,
  out: ExplainedNode[],
): boolean {
  if (isLeaf(f)) {
    const ref = resolved(f);
    const actual = getterFor(ref)(alert, attributes);
    const held = leafTest(f, ref)(actual);
    const node: ExplainedNode = {
      path,
      kind: 'leaf',
      held,
      field: f.field,
      op: f.op,
    };
    if (f.value !== undefined) node.value = f.value;
    node.actual = printable(actual);
    out.push(node);
    return held;
  }
  if (isCone(f)) {
    const c = coneTest(f.cone);
    const held = c.test(alert);
    out.push({
      path,
      kind: 'cone',
      held,
      distanceArcsec: c.distanceArcsec(alert),
    });
    return held;
  }
  const node: ExplainedNode = {path, kind: 'not', held: false};
  out.push(node);
  if (isAll(f) || isAny(f)) {
    const key = isAll(f) ? 'all' : 'any';
    node.kind = key;
    const results = (isAll(f) ? f.all : f.any).map((c, i) =>
      walk(c, `${path}.${key}[${i}]`, alert, attributes, out),
    );
    node.held = key === 'all' ? results.every(Boolean) : results.some(Boolean);
  } else {
    node.held = !walk(f.not, `${path}.not`, alert, attributes, out);
  }
  return node.held;
}

export function explain(
  filter: MaybeFilter,
  alert: Alert,
  attributes?: Attributes,
): Explanation {
  if (filter === null) return {matches: true, nodes: []};
  const nodes: ExplainedNode[] = [];
  const matches = walk(filter, '$', alert, attributes, nodes);
  return {matches, nodes};
}
