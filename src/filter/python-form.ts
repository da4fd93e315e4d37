/**
 * Compatibility with tom_pittgoogle's filter form: `classtar_threshold`
 * (0..1, optional) and `classtar_gt_lt` (`lt`: classtar < threshold; `gt`:
 * classtar >= threshold). No threshold: everything passes. The Python rule
 * raised on a null classtar (and the message was redelivered forever); the
 * converted filter is simply false for a null classtar.
 */

import {PermanentError} from '../errors';
import {MaybeFilter} from './types';

export interface PythonFilterForm {
  classtar_threshold?: number | string | null;
  classtar_gt_lt?: string | null;
}

function bad(path: string, message: string): never {
  throw new PermanentError('invalid-filter', `${path}: ${message}`, {path});
}

export function fromPythonForm(form: PythonFilterForm): MaybeFilter {
  const raw = form.classtar_threshold;
  if (raw === undefined || raw === null || raw === '') return null;
  const t =
    typeof raw === 'number'
      ? raw
      : typeof raw === 'string' && raw.trim() !== ''
        ? Number(raw)
        : NaN;
  if (!Number.isFinite(t) || t < 0 || t > 1) {
    bad(
      '$.classtar_threshold',
      `expected a number in [0, 1], got ${JSON.stringify(raw)}`,
    );
  }
  const dir = form.classtar_gt_lt;
  if (dir !== 'lt' && dir !== 'gt') {
    bad(
      '$.classtar_gt_lt',
      `expected "lt" or "gt" with a threshold, got ${JSON.stringify(dir ?? null)}`,
    );
  }
  return {field: 'classtar', op: dir === 'lt' ? 'lt' : 'gte', value: t};
}
