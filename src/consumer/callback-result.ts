/**
 * The rules of tom_pittgoogle's `user_callback` return value
 * (`{"ack": bool, "result": x}`), as a pure function: `{ack: false}` → nack (redeliver later), neither
 * counted nor collected; `{ack: true, result: null}` → ack, not counted, not
 * collected; `{ack: true}` without a result (or `result: undefined`) → ack,
 * counted, the original data collected; `{ack: true, result: x}` → ack,
 * counted, x collected. Anything else is a callback failure (the message is
 * nacked, never left leased).
 */

import {PermanentError} from '../errors';

export interface CallbackResult<R = unknown> {
  /** false: nack, the message is redelivered later. */
  ack: boolean;
  /** null: do not count towards maxResults, do not collect. Absent: count and collect the original data. */
  result?: R | null;
}

export type Decision<R> =
  | {ack: false}
  | {ack: true; counted: false}
  | {ack: true; counted: true; value: R | unknown};

/** Applies the rules; throws PermanentError('callback-failed') for a malformed return value. */
export function interpretCallbackResult<R>(
  returned: unknown,
  original: unknown,
): Decision<R> {
  if (
    !returned ||
    typeof returned !== 'object' ||
    typeof (returned as {ack?: unknown}).ack !== 'boolean'
  ) {
    throw new PermanentError(
      'callback-failed',
      `userCallback must return {ack: boolean, result?: any}, got ${describe(returned)}`,
    );
  }
  const r = returned as CallbackResult<R>;
  if (!r.ack) return {ack: false};
  if (!('result' in r) || r.result === undefined) {
    return {ack: true, counted: true, value: original};
  }
  if (r.result === null) return {ack: true, counted: false};
  return {ack: true, counted: true, value: r.result};
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  try {
    return JSON.stringify(v)?.slice(0, 100) ?? String(v);
  } catch {
    return String(v);
  }
}
