/**
 * deploy/firestore.indexes.json: parsed, validated, and turned into deploy
 * steps. The file uses the Firebase CLI's format (so `firebase deploy --only
 * firestore:indexes` reads it too), but the deploy plan needs neither the
 * Firebase CLI nor Node packages of it:
 *
 * - composite indexes → `gcloud firestore indexes composite create`
 *   (collection or collection-group scope);
 * - field overrides whose indexes are all collection-scoped (exemptions such
 *   as `record`) → `gcloud firestore indexes fields update`;
 * - field overrides with a collection-group-scoped index → the Firestore
 *   Admin REST API, because `gcloud firestore indexes fields update` always
 *   writes collection-scoped indexes;
 * - field overrides with `"ttl": true` (the Firebase CLI's key) → also
 *   `gcloud firestore fields ttls update FIELD --collection-group=G
 *   --enable-ttl`: a time-to-live policy on that field of the group (one TTL
 *   field per collection group).
 */

import {PermanentError} from '../errors';

export type QueryScope = 'COLLECTION' | 'COLLECTION_GROUP';
export type Order = 'ASCENDING' | 'DESCENDING';

export interface IndexField {
  fieldPath: string;
  order: Order;
}

export interface CompositeIndex {
  collectionGroup: string;
  queryScope: QueryScope;
  fields: IndexField[];
}

export interface FieldIndex {
  queryScope: QueryScope;
  order: Order;
}

export interface FieldOverride {
  collectionGroup: string;
  fieldPath: string;
  /** Empty: the field is exempt from indexing (and so are its subfields). */
  indexes: FieldIndex[];
  /** The collection group's TTL field: documents expire at its timestamp. */
  ttl?: boolean;
}

export interface IndexFile {
  indexes: CompositeIndex[];
  fieldOverrides: FieldOverride[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

function bad(message: string): never {
  throw new PermanentError('bad-config', `firestore.indexes.json: ${message}`);
}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v))
    bad(`${where} must be an object`);
  return v as Record<string, unknown>;
}

function arr(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) bad(`${where} must be an array`);
  return v;
}

function name(v: unknown, where: string): string {
  if (typeof v !== 'string' || !NAME.test(v)) {
    bad(
      `${where} must be a plain field or collection name, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

function scope(v: unknown, where: string): QueryScope {
  if (v !== 'COLLECTION' && v !== 'COLLECTION_GROUP') {
    bad(
      `${where} must be COLLECTION or COLLECTION_GROUP, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

function order(v: unknown, where: string): Order {
  if (v !== 'ASCENDING' && v !== 'DESCENDING') {
    bad(`${where} must be ASCENDING or DESCENDING, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Parses and validates the file; refuses anything the plan cannot deploy. */
export function parseIndexFile(text: string): IndexFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    bad(`not JSON: ${(e as Error).message}`);
  }
  const top = obj(raw, 'the file');
  const indexes = arr(top.indexes ?? [], 'indexes').map((x, i) => {
    const o = obj(x, `indexes[${i}]`);
    const fields = arr(o.fields, `indexes[${i}].fields`).map((f, j) => {
      const fo = obj(f, `indexes[${i}].fields[${j}]`);
      return {
        fieldPath: name(fo.fieldPath, `indexes[${i}].fields[${j}].fieldPath`),
        order: order(fo.order, `indexes[${i}].fields[${j}].order`),
      };
    });
    if (fields.length < 2) bad(`indexes[${i}] needs at least two fields`);
    return {
      collectionGroup: name(o.collectionGroup, `indexes[${i}].collectionGroup`),
      queryScope: scope(o.queryScope, `indexes[${i}].queryScope`),
      fields,
    };
  });
  const fieldOverrides = arr(top.fieldOverrides ?? [], 'fieldOverrides').map(
    (x, i): FieldOverride => {
      const o = obj(x, `fieldOverrides[${i}]`);
      if (o.ttl !== undefined && typeof o.ttl !== 'boolean') {
        bad(`fieldOverrides[${i}].ttl must be true or false`);
      }
      return {
        ...(o.ttl === true ? {ttl: true} : {}),
        collectionGroup: name(
          o.collectionGroup,
          `fieldOverrides[${i}].collectionGroup`,
        ),
        fieldPath: name(o.fieldPath, `fieldOverrides[${i}].fieldPath`),
        indexes: arr(o.indexes, `fieldOverrides[${i}].indexes`).map((f, j) => {
          const fo = obj(f, `fieldOverrides[${i}].indexes[${j}]`);
          return {
            queryScope: scope(
              fo.queryScope,
              `fieldOverrides[${i}].indexes[${j}].queryScope`,
            ),
            order: order(fo.order, `fieldOverrides[${i}].indexes[${j}].order`),
          };
        }),
      };
    },
  );
  const ttlGroups = fieldOverrides
    .filter(o => o.ttl)
    .map(o => o.collectionGroup);
  const twice = ttlGroups.find((g, k) => ttlGroups.indexOf(g) !== k);
  if (twice) bad(`collection group ${twice} has more than one TTL field`);
  return {indexes, fieldOverrides};
}

/**
 * The file is written for the default collection ids; a deployment that
 * renames a collection gets the same indexes on its own ids.
 */
export function renameCollections(
  file: IndexFile,
  rename: Record<string, string>,
): IndexFile {
  const r = (c: string) => rename[c] ?? c;
  return {
    indexes: file.indexes.map(i => ({
      ...i,
      collectionGroup: r(i.collectionGroup),
    })),
    fieldOverrides: file.fieldOverrides.map(f => ({
      ...f,
      collectionGroup: r(f.collectionGroup),
    })),
  };
}

/** True when gcloud can express the override (no collection-group scope). */
export function gcloudCanDeploy(o: FieldOverride): boolean {
  return o.indexes.every(i => i.queryScope === 'COLLECTION');
}

/** The Firestore Admin API body of a field override. */
export function fieldOverrideBody(o: FieldOverride): unknown {
  return {
    indexConfig: {
      indexes: o.indexes.map(i => ({
        queryScope: i.queryScope,
        fields: [{fieldPath: o.fieldPath, order: i.order}],
      })),
    },
  };
}
