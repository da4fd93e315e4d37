/**
 * The public decoding entry point: detects the payload format from the bytes
 * (never from configuration) and returns normalized alerts.
 *
 * - `Obj\x01` → Avro Object Container File (ZTF; every record of the file)
 * - `0x00` + int32 schema id → Confluent wire (LSST; writer schema by id)
 * - `{` (after optional BOM / whitespace) → lite JSON
 * - anything else → PermanentError `unknown-format` (or `empty-payload`)
 *
 * `decode()` is async only because a Confluent schema may have to be fetched;
 * `tryDecodeSync()` does all the work synchronously whenever no fetch is
 * needed (OCF, JSON, Confluent with a cached id).
 */

import {
  AlertError,
  errorMessage,
  PermanentError,
  previewBytes,
} from '../errors';
import {sharedTypeCache, TypeCache} from './avro-types';
import {OCF_MAGIC, OcfDecodeResult, OcfDecoder} from './avro-ocf';
import {ConfluentDecoder, readSchemaId} from './confluent-wire';
import {decodeLiteJson} from './lite-json';
import {Alert, PayloadFormat} from './model';
import {normalizeRecord} from './normalize';
import {
  createSchemaSource,
  RegistryOptions,
  SchemaSource,
} from './schema-source';

function isJsonStart(b: Uint8Array): boolean {
  let i = 0;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) i = 3; // UTF-8 BOM
  for (; i < b.length; i++) {
    const c = b[i];
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    return c === 0x7b; // '{'
  }
  return false;
}

/** The payload format of `bytes`. Throws PermanentError `empty-payload` / `unknown-format`. */
export function detectFormat(bytes: Uint8Array): PayloadFormat {
  if (bytes.length === 0) {
    throw new PermanentError('empty-payload', 'payload is empty (0 bytes)');
  }
  if (
    bytes.length >= 4 &&
    bytes[0] === OCF_MAGIC[0] &&
    bytes[1] === OCF_MAGIC[1] &&
    bytes[2] === OCF_MAGIC[2] &&
    bytes[3] === OCF_MAGIC[3]
  ) {
    return 'avro-ocf';
  }
  if (bytes[0] === 0x00) return 'confluent-wire';
  if (isJsonStart(bytes)) return 'json';
  throw new PermanentError(
    'unknown-format',
    'payload is neither an Avro container ("Obj\\x01"), a Confluent wire packet (0x00 + schema id) nor a JSON object: ' +
      previewBytes(bytes),
    {length: bytes.length},
  );
}

export interface DecoderOptions {
  /** Confluent-wire schemas: a SchemaSource, or a directory path / registry URL. */
  schemaSource?: SchemaSource | string;
  /** Registry request options when `schemaSource` is a URL. */
  registry?: RegistryOptions;
  /** Parsed-type cache (default: one shared by the process). */
  typeCache?: TypeCache;
}

export interface Decoder {
  /** Decodes one payload into its alerts (an OCF may hold several). Rejects with AlertError only. */
  decode(bytes: Uint8Array): Promise<Alert[]>;
  /**
   * Same, synchronously, when no schema has to be fetched; returns undefined
   * when it would need to (Confluent wire with an id not seen yet). Throws
   * AlertError only.
   */
  tryDecodeSync(bytes: Uint8Array): Alert[] | undefined;
  /**
   * The alerts a filter decides on: decoded without their histories and
   * cutouts (`complete: false`; their `nPrevious`, `cutouts` and history
   * fields are then not the alert's) where the writer schema allows
   * (./summary-reader.ts), else in full (`complete: true`, as `decode`).
   * Rejects with AlertError only.
   */
  decodeSummary(bytes: Uint8Array): Promise<SummaryDecode>;
  /** Where Confluent schemas come from (undefined: none configured). */
  readonly schemaSource: SchemaSource | undefined;
}

export interface SummaryDecode {
  alerts: Alert[];
  /** Whether the alerts are complete (then they need no second decode). */
  complete: boolean;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Anything that escaped as a non-AlertError becomes a permanent `bad-avro` / `internal`. */
function typed(e: unknown, format: PayloadFormat | undefined): AlertError {
  if (e instanceof AlertError) return e;
  return new PermanentError(
    format === 'json' ? 'bad-json' : format ? 'bad-avro' : 'internal',
    `could not decode ${format ?? 'payload'}: ${errorMessage(e)}`,
    {},
    {cause: e},
  );
}

function lsstVersionOfTypeName(name: string | undefined): string | undefined {
  const m = /\bv(\d+)_(\d+)\b/.exec(name ?? '');
  return m ? `${Number(m[1])}.${Number(m[2])}` : undefined;
}

export function createDecoder(options: DecoderOptions = {}): Decoder {
  const types = options.typeCache ?? sharedTypeCache;
  const source =
    typeof options.schemaSource === 'string'
      ? createSchemaSource(options.schemaSource, options.registry)
      : options.schemaSource;
  const ocf = new OcfDecoder(types);
  const confluent = new ConfluentDecoder(source, types);

  const decodeOcf = (buf: Buffer): Alert[] => normalizeOcf(ocf.decode(buf));
  const normalizeOcf = ({type, records}: OcfDecodeResult): Alert[] => {
    const version = lsstVersionOfTypeName(type.name);
    const out = new Array<Alert>(records.length);
    for (let i = 0; i < records.length; i++) {
      out[i] = normalizeRecord(records[i], 'avro-ocf', version);
    }
    return out;
  };

  const trySync = (bytes: Uint8Array): Alert[] | undefined => {
    let format: PayloadFormat | undefined;
    try {
      format = detectFormat(bytes);
      const buf = asBuffer(bytes);
      if (format === 'avro-ocf') return decodeOcf(buf);
      if (format === 'json') return decodeLiteJson(buf);
      const w = confluent.cached(readSchemaId(buf));
      if (!w) return undefined;
      return [normalizeRecord(confluent.decodeWith(w, buf), format, w.version)];
    } catch (e) {
      throw typed(e, format);
    }
  };

  const summarySync = (bytes: Uint8Array): Alert[] | undefined => {
    let format: PayloadFormat | undefined;
    try {
      format = detectFormat(bytes);
      const buf = asBuffer(bytes);
      if (format === 'avro-ocf') {
        const result = ocf.decodeSummary(buf);
        return result && normalizeOcf(result);
      }
      if (format === 'json') return undefined;
      const w = confluent.cached(readSchemaId(buf));
      const record = w && confluent.decodeWith(w, buf, true);
      return w && record !== undefined
        ? [normalizeRecord(record, format, w.version)]
        : undefined;
    } catch (e) {
      throw typed(e, format);
    }
  };

  const decode = async (bytes: Uint8Array): Promise<Alert[]> => {
    const done = trySync(bytes);
    if (done) return done;
    try {
      const buf = asBuffer(bytes);
      const w = await confluent.resolve(readSchemaId(buf));
      return [
        normalizeRecord(
          confluent.decodeWith(w, buf),
          'confluent-wire',
          w.version,
        ),
      ];
    } catch (e) {
      throw typed(e, 'confluent-wire');
    }
  };

  return {
    schemaSource: source,
    tryDecodeSync: trySync,
    decode,
    async decodeSummary(bytes: Uint8Array): Promise<SummaryDecode> {
      const alerts = summarySync(bytes);
      if (alerts) return {alerts, complete: false};
      // JSON, a writer schema with no summary reader, or a Confluent schema
      // id not fetched yet: decoded in full (which fetches it).
      return {alerts: await decode(bytes), complete: true};
    },
  };
}
