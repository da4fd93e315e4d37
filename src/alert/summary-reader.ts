/**
 * The summary reader: decodes an Avro alert without its histories and
 * cutouts, so that a filter can decide before the full decode.
 *
 * Most of a ZTF alert's values are in its histories (`prv_candidates`: ~30
 * entries of ~100 fields; `fp_hists`) and most of its bytes in its cutouts; a
 * filter on candidate-level fields or message attributes needs neither. The
 * reader schema is the writer schema without those top-level fields; avsc's
 * resolver then skips them (walking their bytes without building objects).
 * A rejected alert costs the skip; a passing one is decoded in full once more.
 *
 * Resolved once per writer type (cached by the type object). Writer schemas
 * whose reduced form cannot be built (a left-out field defining a named type
 * that a kept field uses, say) have no summary reader: the caller decodes in
 * full. Skipped arrays and maps keep the guards of the full decode.
 */

import * as avro from 'avsc';

import {buildType, schemaOf} from './avro-types';

/**
 * Top-level record fields left out of a summary: the histories and cutouts
 * of ZTF (3.x, 4.x) and LSST (v7-v11) packets.
 */
export const SUMMARY_SKIPPED_FIELDS: ReadonlySet<string> = new Set([
  'prv_candidates',
  'fp_hists',
  'prvDiaSources',
  'prvDiaForcedSources',
  'prvDiaNondetectionLimits',
  'cutoutScience',
  'cutoutTemplate',
  'cutoutDifference',
]);

export interface SummaryReader {
  /** The reduced type the summary is decoded into. */
  type: avro.Type;
  /** Resolves the writer's encoding into `type`. */
  resolver: avro.Resolver;
}

const READERS = new WeakMap<avro.Type, SummaryReader | null>();

type SchemaRecord = {type?: unknown; fields?: {name?: unknown}[]};

function reducedSchema(schema: unknown): unknown | undefined {
  const s = schema as SchemaRecord;
  if (!s || typeof s !== 'object' || s.type !== 'record') return undefined;
  if (!Array.isArray(s.fields)) return undefined;
  const fields = s.fields.filter(
    f => !SUMMARY_SKIPPED_FIELDS.has(String(f?.name)),
  );
  if (fields.length === s.fields.length) return undefined; // nothing to skip
  return {...s, fields};
}

/** The summary reader of a writer type, or null when there is none. */
export function summaryReader(writer: avro.Type): SummaryReader | null {
  const cached = READERS.get(writer);
  if (cached !== undefined) return cached;
  let reader: SummaryReader | null = null;
  const reduced = reducedSchema(schemaOf(writer));
  if (reduced !== undefined) {
    try {
      const type = buildType(reduced);
      reader = {type, resolver: type.createResolver(writer)};
    } catch {
      reader = null; // decoded in full instead
    }
  }
  READERS.set(writer, reader);
  return reader;
}
