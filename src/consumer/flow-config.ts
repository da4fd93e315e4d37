/**
 * tom_pittgoogle's `flow_configs` (its stream_alerts bounds), validated:
 * `maxResults` (default 10, null = no limit), `timeout` in seconds of idle time (default
 * 30, null = none), `maxBacklog` (default min(1000, maxResults)). At least
 * one of maxResults / timeout must bound the run. Pure.
 */

import {PULL_DEFAULTS} from '../defaults';
import {PermanentError} from '../errors';

export interface FlowConfigs {
  /** Counted results after which the run stops. Default 10; null: no limit. */
  maxResults?: number | null;
  /** Seconds without a received message after which the run stops. Default 30; null: none. */
  timeout?: number | null;
  /** Messages held (leased) at once. Default min(1000, maxResults). */
  maxBacklog?: number;
}

export interface ResolvedFlowConfigs {
  maxResults: number | null;
  /** Idle timeout in milliseconds, or null. */
  timeoutMs: number | null;
  maxBacklog: number;
}

export const DEFAULT_MAX_RESULTS = PULL_DEFAULTS.maxResults;
export const DEFAULT_TIMEOUT_S = PULL_DEFAULTS.timeoutSeconds;
export const MAX_BACKLOG = PULL_DEFAULTS.maxBacklog;

const KNOWN = new Set(['maxResults', 'timeout', 'maxBacklog']);
const PYTHON_NAMES: Record<string, string> = {
  max_results: 'maxResults',
  max_backlog: 'maxBacklog',
};

function bad(message: string): never {
  throw new PermanentError('bad-flow-config', `flowConfigs: ${message}`);
}

/** Validates and fills in defaults; throws a PermanentError('bad-flow-config') with a clear message. */
export function resolveFlowConfigs(
  input: FlowConfigs | undefined | null,
): ResolvedFlowConfigs {
  const cfg = (input ?? {}) as Record<string, unknown>;
  if (typeof cfg !== 'object' || Array.isArray(cfg)) {
    bad('expected an object like {maxResults: 10, timeout: 30}');
  }
  for (const key of Object.keys(cfg)) {
    if (!KNOWN.has(key)) {
      const hint = PYTHON_NAMES[key]
        ? ` (did you mean ${PYTHON_NAMES[key]}?)`
        : '';
      bad(
        `unknown key "${key}"${hint}; known: maxResults, timeout, maxBacklog`,
      );
    }
  }
  const maxResults =
    cfg.maxResults === undefined ? DEFAULT_MAX_RESULTS : cfg.maxResults;
  if (
    maxResults !== null &&
    (typeof maxResults !== 'number' ||
      !Number.isSafeInteger(maxResults) ||
      maxResults < 1)
  ) {
    bad(
      `maxResults must be a positive integer or null (no limit), got ${JSON.stringify(maxResults)}`,
    );
  }
  const timeout = cfg.timeout === undefined ? DEFAULT_TIMEOUT_S : cfg.timeout;
  if (
    timeout !== null &&
    (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0)
  ) {
    bad(
      `timeout must be a positive number of seconds or null (none), got ${JSON.stringify(timeout)}`,
    );
  }
  if (maxResults === null && timeout === null) {
    bad(
      'maxResults and timeout are both null: the run would never end; bound it by at least one of them',
    );
  }
  const dflt = Math.min(
    MAX_BACKLOG,
    (maxResults as number | null) ?? MAX_BACKLOG,
  );
  const maxBacklog = cfg.maxBacklog === undefined ? dflt : cfg.maxBacklog;
  if (
    typeof maxBacklog !== 'number' ||
    !Number.isSafeInteger(maxBacklog) ||
    maxBacklog < 1 ||
    maxBacklog > MAX_BACKLOG
  ) {
    bad(
      `maxBacklog must be an integer in [1, ${MAX_BACKLOG}], got ${JSON.stringify(maxBacklog)}`,
    );
  }
  return {
    maxResults: maxResults as number | null,
    timeoutMs: timeout === null ? null : Math.round((timeout as number) * 1000),
    maxBacklog,
  };
}
