/**
 * Where Confluent-wire writer schemas come from, by schema id.
 *
 * - A directory laid out like `schemas/lsst/MAJOR/MINOR/*.avsc` (id =
 *   major*100 + minor; the top-level record is `lsst.vMAJOR_MINOR.alert`, the
 *   other files of the folder define the named types it refers to). A
 *   directory that has a `lsst/` child is accepted too.
 * - A Confluent-compatible registry URL: `GET {url}/schemas/ids/{id}` →
 *   `{"schema": "<json text>"}`.
 *
 * Unknown ids are PermanentError `unknown-schema`; an unreachable registry
 * (connection refused, timeout, 5xx, 429) is TransientError
 * `registry-unavailable`.
 */

import {readdir, readFile, stat} from 'node:fs/promises';
import * as path from 'node:path';

import {REGISTRY_DEFAULTS} from '../defaults';
import {errorMessage, PermanentError, TransientError} from '../errors';

export interface SchemaSource {
  /** Where this source looks (for error messages and logs). */
  readonly description: string;
  /**
   * The self-contained writer schema (JSON text) of `id`. Rejects with
   * PermanentError `unknown-schema` / `bad-schema` or TransientError
   * `registry-unavailable`.
   */
  getSchemaText(id: number): Promise<string>;
}

/** `major.minor` of an LSST schema id (1101 → '11.1'). */
export function lsstVersionOfId(id: number): string {
  return `${Math.floor(id / 100)}.${id % 100}`;
}

type Json = unknown;

function fullName(schema: Record<string, unknown>, ns?: string): string {
  const name = String(schema.name);
  if (name.includes('.')) return name;
  const space = (schema.namespace as string | undefined) ?? ns;
  return space ? `${space}.${name}` : name;
}

const PRIMITIVES = new Set([
  'null',
  'boolean',
  'int',
  'long',
  'float',
  'double',
  'bytes',
  'string',
]);

/**
 * Replaces the first reference to each named type in `top` by its
 * definition from `defs` (fully qualified names), recursively, so that the
 * result is one self-contained schema.
 */
export function inlineNamedTypes(
  top: Json,
  defs: Map<string, Record<string, unknown>>,
): Json {
  const defined = new Set<string>();
  const walk = (s: Json, ns: string | undefined): Json => {
    if (typeof s === 'string') {
      if (PRIMITIVES.has(s)) return s;
      const full = s.includes('.') || !ns ? s : `${ns}.${s}`;
      const name = defs.has(full) ? full : defs.has(s) ? s : undefined;
      if (name && !defined.has(name)) {
        defined.add(name);
        const def = defs.get(name)!;
        return walk(def, ns);
      }
      return s;
    }
    if (Array.isArray(s)) return s.map(x => walk(x, ns));
    if (!s || typeof s !== 'object') return s;
    const o = {...(s as Record<string, unknown>)};
    if (typeof o.name === 'string' && typeof o.type === 'string') {
      const t = o.type;
      if (t === 'record' || t === 'error' || t === 'enum' || t === 'fixed') {
        const full = fullName(o, ns);
        defined.add(full);
        const dot = full.lastIndexOf('.');
        const inner = dot > 0 ? full.slice(0, dot) : undefined;
        if (Array.isArray(o.fields)) {
          o.fields = o.fields.map((f: Record<string, unknown>) => ({
            ...f,
            type: walk(f.type, inner),
          }));
        }
        return o;
      }
    }
    if (o.type === 'array') o.items = walk(o.items, ns);
    else if (o.type === 'map') o.values = walk(o.values, ns);
    else if (o.type && typeof o.type === 'object') o.type = walk(o.type, ns);
    return o;
  };
  return walk(top, undefined);
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * `getSchemaText` over `load`: one promise per schema id, shared by
 * concurrent and later callers. A failure is forgotten at once (the next call
 * loads again) unless `keepFailureMs(error)` says how long to remember it.
 */
function memoised(
  load: (id: number) => Promise<string>,
  keepFailureMs: (error: unknown) => number = () => 0,
): (id: number) => Promise<string> {
  const cache = new Map<number, Promise<string>>();
  return id => {
    let p = cache.get(id);
    if (!p) {
      p = load(id);
      cache.set(id, p);
      p.catch(e => {
        const ms = keepFailureMs(e);
        if (ms <= 0) cache.delete(id);
        else setTimeout(() => cache.delete(id), ms).unref();
      });
    }
    return p;
  };
}

/** Schemas from a directory `ROOT/MAJOR/MINOR/*.avsc` (or `ROOT/lsst/MAJOR/MINOR`). */
export function createDirectorySchemaSource(root: string): SchemaSource {
  const description = `schema directory ${root}`;
  const load = async (id: number): Promise<string> => {
    const major = Math.floor(id / 100);
    const minor = id % 100;
    const candidates = [
      path.join(root, String(major), String(minor)),
      path.join(root, 'lsst', String(major), String(minor)),
    ];
    let dir: string | undefined;
    if (Number.isInteger(id) && id >= 100) {
      for (const c of candidates) {
        if (await isDir(c)) {
          dir = c;
          break;
        }
      }
    }
    if (!dir) {
      throw new PermanentError(
        'unknown-schema',
        `unknown schema id ${id} (v${lsstVersionOfId(id)}): no folder ${candidates.join(' or ')}`,
        {schemaId: id, source: description},
      );
    }
    const files = (await readdir(dir)).filter(f => f.endsWith('.avsc')).sort();
    const defs = new Map<string, Record<string, unknown>>();
    for (const f of files) {
      const file = path.join(dir, f);
      let s: unknown;
      try {
        s = JSON.parse(await readFile(file, 'utf8'));
      } catch (e) {
        throw new PermanentError(
          'bad-schema',
          `schema file ${file} is not valid JSON: ${errorMessage(e)}`,
          {schemaId: id},
        );
      }
      if (s && typeof s === 'object' && !Array.isArray(s)) {
        const o = s as Record<string, unknown>;
        if (typeof o.name === 'string') defs.set(fullName(o), o);
      }
    }
    const topName = `lsst.v${major}_${minor}.alert`;
    let topKey = defs.has(topName) ? topName : undefined;
    if (!topKey) {
      const alerts = [...defs.keys()].filter(k => /(^|\.)alert$/.test(k));
      if (alerts.length === 1) topKey = alerts[0];
    }
    if (!topKey) {
      throw new PermanentError(
        'unknown-schema',
        `unknown schema id ${id}: ${dir} has no top-level record ${topName}`,
        {schemaId: id, source: description},
      );
    }
    const top = defs.get(topKey)!;
    defs.delete(topKey);
    return JSON.stringify(inlineNamedTypes(top, defs));
  };
  // Failures are not remembered: the folder may appear later.
  return {description, getSchemaText: memoised(load)};
}

export interface RegistryOptions {
  /** Per-request timeout (default 5 s). */
  timeoutMs?: number;
  /** Injectable fetch (default: global fetch). */
  fetch?: typeof fetch;
  /**
   * How long a 404 (unknown id) is remembered, so that a stream of packets
   * with an unknown id does not send one request each (default 60 s).
   * Transient failures are never remembered.
   */
  notFoundTtlMs?: number;
}

/** Schemas from a Confluent-compatible registry (`GET /schemas/ids/{id}`), cached. */
export function createRegistrySchemaSource(
  url: string,
  options: RegistryOptions = {},
): SchemaSource {
  const base = url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? REGISTRY_DEFAULTS.timeoutMs;
  const doFetch = options.fetch ?? fetch;
  const notFoundTtlMs =
    options.notFoundTtlMs ?? REGISTRY_DEFAULTS.notFoundTtlMs;
  const description = `schema registry ${base}`;
  const load = async (id: number): Promise<string> => {
    const where = `${base}/schemas/ids/${id}`;
    let res: Response;
    try {
      res = await doFetch(where, {
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          accept: 'application/vnd.schemaregistry.v1+json, application/json',
        },
      });
    } catch (e) {
      const cause = (e as {cause?: unknown}).cause;
      throw new TransientError(
        'registry-unavailable',
        `schema registry unreachable at ${where}: ${errorMessage(e)}${cause ? ` (${errorMessage(cause)})` : ''}`,
        {schemaId: id, source: description},
        {cause: e},
      );
    }
    if (res.status === 404) {
      await res.body?.cancel();
      throw new PermanentError(
        'unknown-schema',
        `unknown schema id ${id}: ${where} answered 404`,
        {schemaId: id, source: description},
      );
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new TransientError(
        'registry-unavailable',
        `schema registry answered ${res.status} for ${where}`,
        {schemaId: id, source: description, status: res.status},
      );
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch (e) {
      throw new PermanentError(
        'bad-schema',
        `schema registry answer for id ${id} is not JSON: ${errorMessage(e)}`,
        {schemaId: id, source: description},
      );
    }
    const schema = (body as {schema?: unknown} | null)?.schema;
    if (typeof schema !== 'string') {
      throw new PermanentError(
        'bad-schema',
        `schema registry answer for id ${id} has no "schema" string`,
        {schemaId: id, source: description},
      );
    }
    return schema;
  };
  const keepFailureMs = (e: unknown): number =>
    e instanceof PermanentError && e.code === 'unknown-schema'
      ? notFoundTtlMs
      : 0;
  return {description, getSchemaText: memoised(load, keepFailureMs)};
}

/** A registry for `http(s)://…`, else a directory. */
export function createSchemaSource(
  spec: string,
  options: RegistryOptions = {},
): SchemaSource {
  return /^https?:\/\//i.test(spec)
    ? createRegistrySchemaSource(spec, options)
    : createDirectorySchemaSource(spec);
}
