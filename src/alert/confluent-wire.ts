/**
 * Confluent wire format (the LSST packet): byte 0x00, a big-endian int32
 * schema id, then one schemaless Avro record written with that schema.
 * Writer types are resolved through a {@link SchemaSource} and cached by id,
 * so a known id decodes synchronously.
 */

import * as avro from 'avsc';

import {PermanentError, previewBytes} from '../errors';
import {decodeValue, sharedTypeCache, TypeCache} from './avro-types';
import {summaryReader} from './summary-reader';
import {lsstVersionOfId, SchemaSource} from './schema-source';

export const CONFLUENT_HEADER_LENGTH = 5;

export function readSchemaId(buf: Buffer): number {
  if (buf.length < CONFLUENT_HEADER_LENGTH || buf[0] !== 0) {
    throw new PermanentError(
      buf.length > 0 && buf[0] === 0 ? 'truncated' : 'unknown-format',
      `not a Confluent wire packet (needs 0x00 + 4-byte schema id): ${previewBytes(buf)}`,
      {length: buf.length},
    );
  }
  return buf.readInt32BE(1);
}

export interface WriterType {
  id: number;
  type: avro.Type;
  /** Version from the top-level record's namespace (`lsst.v11_1` → '11.1'), else from the id. */
  version: string;
}

function versionOf(type: avro.Type, id: number): string {
  const m = /\bv(\d+)_(\d+)\b/.exec(type.name ?? '');
  return m ? `${Number(m[1])}.${Number(m[2])}` : lsstVersionOfId(id);
}

export class ConfluentDecoder {
  private readonly byId = new Map<number, WriterType>();

  constructor(
    private readonly source: SchemaSource | undefined,
    private readonly types: TypeCache = sharedTypeCache,
  ) {}

  /** The cached writer type of `id`, or undefined when it must be fetched. */
  cached(id: number): WriterType | undefined {
    return this.byId.get(id);
  }

  async resolve(id: number): Promise<WriterType> {
    const hit = this.byId.get(id);
    if (hit) return hit;
    if (!this.source) {
      throw new PermanentError(
        'unknown-schema',
        `Confluent wire packet with schema id ${id} (v${lsstVersionOfId(id)}), but no schema source is configured (set SCHEMA_SOURCE or --schemas to a directory or registry URL)`,
        {schemaId: id},
      );
    }
    const text = await this.source.getSchemaText(id);
    const type = this.types.get(text);
    const w: WriterType = {id, type, version: versionOf(type, id)};
    this.byId.set(id, w);
    return w;
  }

  /**
   * Decodes the record after the 5-byte header with a resolved writer type;
   * with `summary`, without its histories and cutouts (undefined when the
   * writer schema has no summary reader: ./summary-reader.ts).
   */
  decodeWith(w: WriterType, buf: Buffer): unknown;
  decodeWith(w: WriterType, buf: Buffer, summary: true): unknown | undefined;
  decodeWith(w: WriterType, buf: Buffer, summary = false): unknown {
    const what = `Confluent wire record (schema id ${w.id})`;
    const reader = summary ? summaryReader(w.type) : undefined;
    if (summary && !reader) return undefined;
    const r = reader
      ? decodeValue(
          reader.type,
          buf,
          CONFLUENT_HEADER_LENGTH,
          what,
          reader.resolver,
        )
      : decodeValue(w.type, buf, CONFLUENT_HEADER_LENGTH, what);
    if (r.offset !== buf.length) {
      throw new PermanentError(
        'bad-avro',
        `${what}: ${buf.length - r.offset} bytes left after the record (wrong schema?)`,
        {schemaId: w.id},
      );
    }
    return r.value;
  }
}
