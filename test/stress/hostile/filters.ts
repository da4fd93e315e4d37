/**
 * The cases of test/stress/hostile.test.ts: hostile stored filters: transient
 * (the alert waits in Pub/Sub until the filter is fixed), or a filter that
 * works and is never evaluated as code.
 */

import {generateZtfPacket} from '../../helpers';
import {Expected, Case, Ctx, retry, stored, filtered, push, memo} from './case';

let filterSeed = 0;

function filterCase(
  name: string,
  filter: unknown,
  expect: Expected,
  fix?: unknown,
): Case {
  const sub = `hostile-filter-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`;
  const putFilter = (f: unknown) => async (ctx: Ctx) => {
    await ctx.db.collection('subscriptions').doc(sub).set({
      name: sub,
      topic: 'projects/ardent-cycling-243415/topics/ztf-loop',
      filter: f,
      serverFilter: '',
      settings: {},
    });
  };
  return {
    name: `stored filter: ${name}`,
    sub,
    setup: putFilter(filter),
    // A fresh packet per case: its alert is not stored anywhere yet.
    request: push(
      memo(
        () =>
          generateZtfPacket({seed: 900 + ++filterSeed, cutoutBytes: 0}).bytes,
      ),
      {sub},
    ),
    expect,
    again:
      fix === undefined ? undefined : {setup: putFilter(fix), expect: stored()},
  };
}

/** Hostile stored filters, each under a subscription of its own. */
export function filterCases(): Case[] {
  const out: Case[] = [];
  const add = (...c: Case[]) => out.push(...c);

  // --- hostile stored filters: transient (the alert waits in Pub/Sub until the filter is fixed) ---
  const deep = (n: number): unknown =>
    n === 0 ? {field: 'mag', op: 'lt', value: 20} : {not: deep(n - 1)};
  add(
    filterCase('invalid JSON text', '{"all": [', retry('invalid-filter')),
    filterCase('a number', 5, retry('invalid-filter')),
    filterCase(
      'an array',
      [{field: 'mag', op: 'lt', value: 1}],
      retry('invalid-filter'),
    ),
    filterCase(
      'huge (2,000 leaves)',
      {
        any: Array.from({length: 2000}, (_, i) => ({
          field: 'mag',
          op: 'lt',
          value: i,
        })),
      },
      retry('invalid-filter'),
    ),
    filterCase('deep nesting (18 levels)', deep(17), retry('invalid-filter')),
    filterCase(
      'unknown operator (fixed afterwards)',
      {field: 'mag', op: 'regex', value: '.*'},
      retry('invalid-filter'),
      {field: 'mag', op: 'lt', value: 99},
    ),
    filterCase(
      'field __proto__.polluted',
      {field: '__proto__.polluted', op: 'eq', value: 'x'},
      retry('invalid-filter'),
    ),
    filterCase(
      'field candidate.constructor.prototype',
      {field: 'candidate.constructor.prototype', op: 'exists'},
      retry('invalid-filter'),
    ),
    filterCase(
      'constructor key as a node',
      {constructor: {field: 'mag', op: 'lt', value: 1}},
      retry('invalid-filter'),
    ),
    filterCase(
      'code in a value (not evaluated)',
      {field: 'objectId', op: 'eq', value: 'process.exit(1)'},
      filtered,
    ),
    filterCase(
      'valid filter that rejects everything',
      {field: 'mag', op: 'lt', value: -100},
      filtered,
    ),
  );
  return out;
}
