/**
 * Structured logging: one JSON line per event on stdout, with the Cloud
 * Logging `severity` field so that Cloud Functions / Cloud Run parse it.
 * The sink is injectable for tests and for the CLI (which logs to stderr).
 */

export type Severity =
  'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR' | 'CRITICAL';

const RANK: Record<Severity, number> = {
  DEBUG: 100,
  INFO: 200,
  NOTICE: 300,
  WARNING: 400,
  ERROR: 500,
  CRITICAL: 600,
};

export interface LogEntry {
  severity: Severity;
  message: string;
  [field: string]: unknown;
}

export type LogSink = (line: string) => void;

export interface Logger {
  log(
    severity: Severity,
    message: string,
    fields?: Record<string, unknown>,
  ): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** JSON.stringify that writes bigint as exact strings and Buffers as sizes. */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return {name: value.name, message: value.message};
  if (
    value &&
    typeof value === 'object' &&
    (value as {type?: unknown}).type === 'Buffer' &&
    Array.isArray((value as {data?: unknown}).data)
  ) {
    return `<${(value as {data: unknown[]}).data.length} bytes>`;
  }
  return value;
}

export function createLogger(
  options: {
    sink?: LogSink;
    minSeverity?: Severity;
    fields?: Record<string, unknown>;
  } = {},
): Logger {
  const sink: LogSink =
    options.sink ?? (line => process.stdout.write(line + '\n'));
  const min = RANK[options.minSeverity ?? 'DEBUG'];
  const base = options.fields ?? {};
  const log = (
    severity: Severity,
    message: string,
    fields: Record<string, unknown> = {},
  ) => {
    if (RANK[severity] < min) return;
    const entry: LogEntry = {severity, message, ...base, ...fields};
    sink(JSON.stringify(entry, replacer));
  };
  return {
    log,
    debug: (m, f) => log('DEBUG', m, f),
    info: (m, f) => log('INFO', m, f),
    warn: (m, f) => log('WARNING', m, f),
    error: (m, f) => log('ERROR', m, f),
    child: fields => createLogger({...options, fields: {...base, ...fields}}),
  };
}

/** Parses a severity name (case-insensitive); undefined for anything else. */
export function parseSeverity(s: string | undefined): Severity | undefined {
  const up = s?.toUpperCase();
  return up && up in RANK ? (up as Severity) : undefined;
}
