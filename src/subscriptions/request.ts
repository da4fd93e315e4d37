/**
 * Pure: routes of the management API and validation of request bodies.
 * Names are validated with Pub/Sub's rule before any call is made.
 *
 *   GET    /subscriptions                 list
 *   GET    /subscriptions/{name}          get
 *   PUT    /subscriptions/{name}          touch (get or create, update)
 *   POST   /subscriptions                 touch, name in the body (`name` or `subscription_name`)
 *   PATCH  /subscriptions/{name}          change the filter / settings
 *   DELETE /subscriptions/{name}[?purge=true]
 *   POST   /subscriptions/{name}:seek     {"time": ISO-8601}
 */

import {PermanentError} from '../errors';
import {
  fromPythonForm,
  MaybeFilter,
  PythonFilterForm,
  validateFilter,
} from '../filter';
import {validateResourceId} from '../ingest/envelope';
import type {SettingsOverrides} from './settings';

export type Route =
  | {action: 'list'}
  | {action: 'get'; name: string}
  | {action: 'touch'; name: string | undefined}
  | {action: 'patch'; name: string}
  | {action: 'delete'; name: string}
  | {action: 'seek'; name: string};

const badRequest = (message: string, details: Record<string, unknown> = {}) =>
  new PermanentError('bad-request', message, details);

function notAllowed(method: string, path: string, allow: string[]): never {
  throw new PermanentError(
    'method-not-allowed',
    `${method} is not allowed on ${path.slice(0, 200)} (allowed: ${allow.join(', ')})`,
    {allow},
  );
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new PermanentError(
      'invalid-name',
      `bad percent-encoding in the path: ${JSON.stringify(s.slice(0, 80))}`,
    );
  }
}

/** Maps a method and a URL path onto an action; validates the name. */
export function parseRoute(method: string, path: string): Route {
  const m = method.toUpperCase();
  const clean = path.replace(/\/+$/, '') || '/';
  const parts = clean.split('/').filter(Boolean);
  if (parts[0] !== 'subscriptions' || parts.length > 2) {
    throw new PermanentError(
      'not-found',
      `no route ${clean.slice(0, 200)}: the API is under /subscriptions`,
    );
  }
  if (parts.length === 1) {
    if (m === 'GET') return {action: 'list'};
    if (m === 'POST') return {action: 'touch', name: undefined};
    notAllowed(m, clean, ['GET', 'POST']);
  }
  let segment = decodeSegment(parts[1]);
  const colon = segment.lastIndexOf(':');
  if (colon >= 0) {
    const verb = segment.slice(colon + 1);
    segment = segment.slice(0, colon);
    if (verb !== 'seek') {
      throw new PermanentError(
        'not-found',
        `unknown custom method ":${verb.slice(0, 40)}" (only :seek exists)`,
      );
    }
    const name = validateResourceId(segment);
    if (m !== 'POST') notAllowed(m, clean, ['POST']);
    return {action: 'seek', name};
  }
  const name = validateResourceId(segment);
  switch (m) {
    case 'GET':
      return {action: 'get', name};
    case 'PUT':
      return {action: 'touch', name};
    case 'PATCH':
      return {action: 'patch', name};
    case 'DELETE':
      return {action: 'delete', name};
    default:
      return notAllowed(m, clean, ['GET', 'PUT', 'PATCH', 'DELETE']);
  }
}

// ---------------------------------------------------------------------------
// bodies

/** tom_pittgoogle's form fields, accepted as a touch body. */
export const PYTHON_FORM_FIELDS = [
  'subscription_name',
  'classtar_threshold',
  'classtar_gt_lt',
  'max_results',
  'timeout',
  'max_backlog',
] as const;

const SETTING_FIELDS = [
  'ackDeadlineSeconds',
  'maxDeliveryAttempts',
  'minimumBackoffSeconds',
  'maximumBackoffSeconds',
  'expirationDays',
  'retainAckedMessages',
  'messageRetentionSeconds',
] as const;

const TOUCH_FIELDS = [
  'name',
  'topic',
  'filter',
  'retentionDays',
  ...SETTING_FIELDS,
] as const;
const PATCH_FIELDS = ['filter', 'retentionDays', ...SETTING_FIELDS] as const;

/** Longest retention accepted, days (100 years: "forever" is null). */
export const MAX_RETENTION_DAYS = 36_500;

/** The pull harness's flow settings from the Python form (stored, not used by push). */
export interface FlowSettings {
  maxResults: number | null;
  timeoutSeconds: number | null;
  maxBacklog: number | null;
}

export interface TouchRequest {
  name: string;
  /** Full topic path. */
  topic: string;
  filter: MaybeFilter;
  overrides: SettingsOverrides;
  /** Present when the Python form was used. */
  flow?: FlowSettings;
  form: 'json' | 'python';
  /** Days its alerts are kept (null: forever); absent: keep the stored one (new: forever). */
  retentionDays?: number | null;
}

export interface PatchRequest {
  /** Absent: keep the stored filter. */
  filter?: MaybeFilter;
  /** Absent: keep the stored retention; null: forever. */
  retentionDays?: number | null;
  overrides: SettingsOverrides;
}

/** `retentionDays`: an integer of days, or null for forever; undefined when absent. */
function retention(body: Record<string, unknown>): number | null | undefined {
  if (!('retentionDays' in body)) return undefined;
  if (body.retentionDays === null) return null;
  return intIn(body, 'retentionDays', 1, MAX_RETENTION_DAYS);
}

/** Turns the framework's body (object, string, Buffer, undefined) into an object. */
export function bodyObject(body: unknown): Record<string, unknown> {
  let v = body;
  if (Buffer.isBuffer(v)) v = v.length ? v.toString('utf8') : undefined;
  if (typeof v === 'string') {
    if (v.trim() === '') return {};
    try {
      v = JSON.parse(v);
    } catch {
      throw badRequest('the request body is not JSON');
    }
  }
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw badRequest('the request body must be a JSON object');
  }
  return v as Record<string, unknown>;
}

function onlyFields(
  body: Record<string, unknown>,
  allowed: readonly string[],
  what: string,
): void {
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) {
      throw badRequest(
        `unknown field "${k.slice(0, 60)}" in the ${what} body (allowed: ${allowed.join(', ')})`,
        {field: k.slice(0, 60)},
      );
    }
  }
}

function intIn(
  body: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
): number | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw badRequest(
      `${key} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`,
      {field: key},
    );
  }
  return v;
}

function settingsOverrides(body: Record<string, unknown>): SettingsOverrides {
  const o: SettingsOverrides = {
    ackDeadlineSeconds: intIn(body, 'ackDeadlineSeconds', 10, 600),
    maxDeliveryAttempts: intIn(body, 'maxDeliveryAttempts', 5, 100),
    minimumBackoffSeconds: intIn(body, 'minimumBackoffSeconds', 0, 600),
    maximumBackoffSeconds: intIn(body, 'maximumBackoffSeconds', 0, 600),
    messageRetentionSeconds: intIn(
      body,
      'messageRetentionSeconds',
      600,
      604800,
    ),
  };
  if (body.expirationDays === null) o.expirationDays = null;
  else o.expirationDays = intIn(body, 'expirationDays', 1, 365);
  const r = body.retainAckedMessages;
  if (r !== undefined) {
    if (typeof r !== 'boolean') {
      throw badRequest('retainAckedMessages must be true or false', {
        field: 'retainAckedMessages',
      });
    }
    o.retainAckedMessages = r;
  }
  for (const k of Object.keys(o) as (keyof SettingsOverrides)[]) {
    if (o[k] === undefined) delete o[k];
  }
  return o;
}

/** A project id (or a domain-scoped one) and a topic id. */
const TOPIC_PATH = /^projects\/([a-z][a-z0-9.:-]{3,62})\/topics\/([^/]+)$/;

/** A topic given as a short name (in Pitt-Google's project) or a full path. */
export function topicPathFor(
  topic: unknown,
  pittGoogleProject: string,
): string {
  if (typeof topic === 'string' && topic.startsWith('projects/')) {
    const m = TOPIC_PATH.exec(topic);
    if (!m) {
      throw new PermanentError(
        'invalid-name',
        `invalid topic path ${JSON.stringify(topic.slice(0, 120))}: expected projects/PROJECT/topics/TOPIC`,
      );
    }
    validateResourceId(m[2], 'topic');
    return topic;
  }
  const id = validateResourceId(topic, 'topic');
  return `projects/${pittGoogleProject}/topics/${id}`;
}

function isPythonForm(body: Record<string, unknown>): boolean {
  return PYTHON_FORM_FIELDS.some(k => k in body);
}

function optionalPositive(
  body: Record<string, unknown>,
  key: string,
): number | null {
  const v = body[key];
  if (v === undefined || v === null || v === '') return null;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) {
    throw badRequest(
      `${key} must be a positive number or null, got ${JSON.stringify(v)}`,
      {field: key},
    );
  }
  return n;
}

/**
 * The body of a touch: the JSON form (`{topic?, filter?, settings...}`) or
 * tom_pittgoogle's form fields. `routeName` is the name from the URL (PUT);
 * POST /subscriptions takes it from the body.
 */
export function parseTouchBody(
  routeName: string | undefined,
  raw: unknown,
  pittGoogleProject: string,
): TouchRequest {
  const body = bodyObject(raw);
  if (isPythonForm(body)) {
    onlyFields(body, PYTHON_FORM_FIELDS, 'tom_pittgoogle form');
    const bodyName = body.subscription_name;
    const name = nameFrom(routeName, bodyName, 'subscription_name');
    const maxResults = optionalPositive(body, 'max_results');
    if (maxResults !== null && !Number.isInteger(maxResults)) {
      throw badRequest('max_results must be an integer', {
        field: 'max_results',
      });
    }
    const maxBacklog = optionalPositive(body, 'max_backlog');
    return {
      name,
      topic: topicPathFor(name, pittGoogleProject),
      filter: fromPythonForm(body as PythonFilterForm),
      overrides: {},
      flow: {
        maxResults,
        timeoutSeconds: optionalPositive(body, 'timeout'),
        maxBacklog: maxBacklog === null ? null : Math.floor(maxBacklog),
      },
      form: 'python',
    };
  }
  onlyFields(body, TOUCH_FIELDS, 'touch');
  const name = nameFrom(routeName, body.name, 'name');
  const retentionDays = retention(body);
  return {
    name,
    topic: topicPathFor(body.topic ?? name, pittGoogleProject),
    filter: body.filter === undefined ? null : validateFilter(body.filter),
    overrides: settingsOverrides(body),
    form: 'json',
    ...(retentionDays !== undefined ? {retentionDays} : {}),
  };
}

function nameFrom(
  routeName: string | undefined,
  bodyName: unknown,
  field: string,
): string {
  if (routeName === undefined) {
    if (bodyName === undefined) {
      throw badRequest(`POST /subscriptions needs "${field}" in the body`, {
        field,
      });
    }
    return validateResourceId(bodyName);
  }
  if (bodyName !== undefined && bodyName !== routeName) {
    throw badRequest(
      `"${field}" in the body (${JSON.stringify(String(bodyName).slice(0, 80))}) differs from the name in the URL (${routeName})`,
      {field},
    );
  }
  return routeName;
}

/** The body of a PATCH: `filter` (null = pass everything) and/or settings, or the Python threshold fields. */
export function parsePatchBody(raw: unknown): PatchRequest {
  const body = bodyObject(raw);
  if ('classtar_threshold' in body || 'classtar_gt_lt' in body) {
    onlyFields(body, ['classtar_threshold', 'classtar_gt_lt'], 'PATCH');
    return {filter: fromPythonForm(body as PythonFilterForm), overrides: {}};
  }
  onlyFields(body, PATCH_FIELDS, 'PATCH');
  const out: PatchRequest = {overrides: settingsOverrides(body)};
  if ('filter' in body) out.filter = validateFilter(body.filter);
  const retentionDays = retention(body);
  if (retentionDays !== undefined) out.retentionDays = retentionDays;
  if (
    out.filter === undefined &&
    out.retentionDays === undefined &&
    Object.keys(out.overrides).length === 0
  ) {
    throw badRequest(
      `a PATCH body needs at least one of: ${PATCH_FIELDS.join(', ')}`,
    );
  }
  return out;
}

const ISO_8601 =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** The body of :seek: `{"time": "2026-11-29T08:00:00Z"}`. */
export function parseSeekBody(raw: unknown, now = Date.now()): Date {
  const body = bodyObject(raw);
  onlyFields(body, ['time'], 'seek');
  const t = body.time;
  if (typeof t !== 'string' || !ISO_8601.test(t)) {
    throw badRequest(
      `"time" must be an ISO-8601 time with a zone, e.g. "2026-11-29T08:00:00Z"; got ${JSON.stringify(t ?? null)}`,
      {field: 'time'},
    );
  }
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) {
    throw badRequest(`"time" is not a valid date: ${t}`, {field: 'time'});
  }
  if (d.getTime() > now + 60_000) {
    throw badRequest(
      `"time" ${t} is in the future: seeking there would acknowledge every retained message`,
      {field: 'time'},
    );
  }
  return d;
}

/** `?purge=true|false` (absent: false). */
export function parsePurge(q: unknown): boolean {
  if (q === undefined) return false;
  if (q === 'true' || q === '1') return true;
  if (q === 'false' || q === '0' || q === '') return false;
  throw badRequest(`purge must be true or false, got ${JSON.stringify(q)}`, {
    field: 'purge',
  });
}
