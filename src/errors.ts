/**
 * Typed failures. Every failure that crosses a module boundary is an
 * {@link AlertError}: it says whether retrying can help (`transient`) or not
 * (`permanent`), with a stable reason code for logs, quarantine records and
 * tests. Nothing in this project throws an untyped error on bad input.
 */

export type FailureKind = 'permanent' | 'transient';

/** Stable reason codes. Add new ones here, never reuse one for another meaning. */
export type ReasonCode =
  // payload / decoding
  | 'empty-payload'
  | 'unknown-format'
  | 'truncated'
  | 'bad-header'
  | 'bad-avro'
  | 'unsupported-codec'
  | 'unknown-schema'
  | 'bad-schema'
  | 'bad-json'
  | 'invalid-alert'
  | 'registry-unavailable'
  // envelopes, requests, configuration
  | 'bad-envelope'
  | 'bad-request'
  | 'invalid-filter'
  | 'invalid-name'
  | 'bad-config'
  // management API (HTTP status in src/functions/manage.ts)
  | 'not-found'
  | 'conflict'
  | 'method-not-allowed'
  | 'unauthenticated'
  | 'forbidden'
  | 'pubsub-unavailable'
  | 'pubsub-rejected'
  // storage
  | 'store-unavailable'
  | 'store-rejected'
  | 'too-large'
  // local tooling (emulators)
  | 'emulator-missing'
  | 'emulator-failed'
  // pull consumer
  | 'bad-flow-config'
  | 'topic-not-found'
  | 'pull-failed'
  | 'callback-failed'
  | 'internal';

export class AlertError extends Error {
  readonly kind: FailureKind;
  readonly code: ReasonCode;
  readonly details: Record<string, unknown>;

  constructor(
    kind: FailureKind,
    code: ReasonCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: {cause?: unknown},
  ) {
    super(message, options);
    this.name = kind === 'permanent' ? 'PermanentError' : 'TransientError';
    this.kind = kind;
    this.code = code;
    this.details = details;
  }

  get permanent(): boolean {
    return this.kind === 'permanent';
  }
}

export class PermanentError extends AlertError {
  constructor(
    code: ReasonCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: {cause?: unknown},
  ) {
    super('permanent', code, message, details, options);
  }
}

export class TransientError extends AlertError {
  constructor(
    code: ReasonCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: {cause?: unknown},
  ) {
    super('transient', code, message, details, options);
  }
}

export function isAlertError(e: unknown): e is AlertError {
  return e instanceof AlertError;
}

/** A short, printable view of the first bytes of a payload, for error messages. */
export function previewBytes(bytes: Uint8Array, n = 16): string {
  const head = Buffer.from(bytes.subarray(0, n));
  const hex = head.toString('hex').replace(/(..)/g, '$1 ').trim();
  const ascii = head.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
  return `${hex} |${ascii}|${bytes.length > n ? ` (+${bytes.length - n} bytes)` : ''}`;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
