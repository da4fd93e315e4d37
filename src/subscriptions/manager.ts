/**
 * The subscription manager: touch, get, list, patch, delete and seek of the
 * push subscriptions that deliver Pitt-Google streams to the ingest
 * function, with their stored filters. Every dependency is injected: the
 * Pub/Sub port, the subscription store and the alert counts.
 *
 * Pub/Sub cannot change a subscription's topic or filter expression after
 * creation: a touch that differs there is a 409 ('conflict') naming the
 * field; every other setting is updated in place. A PATCH of the filter
 * updates the stored (in-process) filter at once; when the server-side
 * expression would differ it is kept, and the answer says
 * `recreateRequired: true`.
 */

import {PermanentError} from '../errors';
import {
  Filter,
  MaybeFilter,
  toSubscriptionFilter,
  topicHasIdAttributes,
} from '../filter';
import type {Logger} from '../log';
import type {
  SubscriptionRecord,
  SubscriptionStore,
} from '../store/subscription-store';
import type {AlertCounts, AlertCountsPort, PurgeResult} from './alert-counts';
import {GRPC, grpcCodeOf, PubSubPort} from './pubsub-port';
import type {FlowSettings, PatchRequest, TouchRequest} from './request';
import {
  desiredSettings,
  diffState,
  fromMetadata,
  MANAGED_LABEL,
  SettingsConfig,
  SubscriptionSettings,
  SubscriptionState,
  toMetadata,
  withOverrides,
} from './settings';

export interface FilterPlanView {
  /** The Pub/Sub expression the stored filter compiles to (null: none). */
  expression: string | null;
  serverSide: Filter | null;
  inProcess: Filter | null;
}

export interface SubscriptionResource {
  name: string;
  /** `projects/{project}/subscriptions/{name}`. */
  path: string;
  /** Full topic path. */
  topic: string;
  /** The stored filter; the ingest function evaluates all of it. null: everything passes. */
  filter: MaybeFilter;
  /** The filter expression the Pub/Sub subscription has ('' = none). */
  serverFilter: string;
  /** How the stored filter splits into a server-side and an in-process part. */
  plan: FilterPlanView;
  /** The stored filter's expression differs from the subscription's: delete + touch to apply it. */
  recreateRequired: boolean;
  /** 'active': the Pub/Sub subscription exists; 'missing': only the stored record does (expired or deleted). */
  pubsub: 'active' | 'missing';
  /** Settings as Pub/Sub reports them (null when missing). */
  settings: SubscriptionSettings | null;
  /** Whether this API manages it (has a stored record). */
  managed: boolean;
  /** tom_pittgoogle's flow settings, when touched with that form. */
  flow?: FlowSettings;
  /** Days its alerts are kept (their `expireAt`); null: forever (the default). */
  retentionDays: number | null;
  counts?: AlertCounts;
  createdAt?: string;
  updatedAt?: string;
}

export interface ChangeResult {
  status: 'created' | 'updated' | 'unchanged';
  /** What changed: setting names, and 'filter' for the stored filter. */
  changed: string[];
  message: string;
  subscription: SubscriptionResource;
}

export interface DeleteResult {
  name: string;
  subscriptionDeleted: boolean;
  recordDeleted: boolean;
  purged?: PurgeResult;
  message: string;
}

export interface SeekResult {
  name: string;
  time: string;
  retainAckedMessages: boolean;
  message: string;
}

export interface SubscriptionManager {
  touch(req: TouchRequest): Promise<ChangeResult>;
  get(name: string): Promise<SubscriptionResource>;
  list(): Promise<SubscriptionResource[]>;
  patch(name: string, req: PatchRequest): Promise<ChangeResult>;
  delete(name: string, opts?: {purge?: boolean}): Promise<DeleteResult>;
  seek(name: string, time: Date): Promise<SeekResult>;
}

export interface ManagerDeps {
  pubsub: PubSubPort;
  store: SubscriptionStore;
  counts: AlertCountsPort;
  config: SettingsConfig;
  log?: Logger;
}

function planFor(topic: string, filter: MaybeFilter): FilterPlanView {
  return toSubscriptionFilter(filter, {
    idAttributes: topicHasIdAttributes(topic),
  });
}

const sameJson = (a: unknown, b: unknown) =>
  JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function notFound(name: string): PermanentError {
  return new PermanentError(
    'not-found',
    `no subscription named ${name}: create it with PUT /subscriptions/${name}`,
    {subscription: name},
  );
}

function topicMissing(topic: string): PermanentError {
  return new PermanentError(
    'not-found',
    `the Pitt-Google topic ${topic} does not exist; check the stream name (e.g. ztf-loop, ztf-alerts, lsst-alerts) and the project`,
    {topic},
  );
}

export function createSubscriptionManager(
  deps: ManagerDeps,
): SubscriptionManager {
  const {pubsub, store, counts, config} = deps;

  function resource(
    name: string,
    record: SubscriptionRecord | undefined,
    state: SubscriptionState | undefined,
  ): SubscriptionResource {
    const topic = state?.topic ?? record?.topic ?? '';
    const filter = record?.filter ?? null;
    const serverFilter = state?.filter ?? record?.serverFilter ?? '';
    const plan = planFor(topic, filter);
    const flow = (record?.settings as {flow?: FlowSettings} | undefined)?.flow;
    return {
      name,
      path: pubsub.subscriptionPath(name),
      topic,
      filter,
      serverFilter,
      plan,
      recreateRequired: (plan.expression ?? '') !== serverFilter,
      pubsub: state ? 'active' : 'missing',
      settings: state?.settings ?? null,
      managed: record !== undefined,
      ...(flow ? {flow} : {}),
      retentionDays: record?.retentionDays ?? null,
      createdAt: record?.createdAt?.toISOString(),
      updatedAt: record?.updatedAt?.toISOString(),
    };
  }

  async function readState(
    name: string,
  ): Promise<SubscriptionState | undefined> {
    const m = await pubsub.getSubscription(name);
    return m ? fromMetadata(m) : undefined;
  }

  /** Stores the record when it differs from `before`; true when written. */
  async function saveRecord(
    before: SubscriptionRecord | undefined,
    next: SubscriptionRecord,
  ): Promise<boolean> {
    if (
      before &&
      before.topic === next.topic &&
      before.serverFilter === next.serverFilter &&
      sameJson(before.filter, next.filter) &&
      sameJson(before.settings, next.settings) &&
      (before.retentionDays ?? null) === (next.retentionDays ?? null)
    ) {
      return false;
    }
    await store.put(next);
    return true;
  }

  async function create(
    req: TouchRequest,
    expression: string,
    settings: SubscriptionSettings,
  ): Promise<SubscriptionState | undefined> {
    const exists = await pubsub.topicExists(req.topic);
    if (exists === false) throw topicMissing(req.topic);
    try {
      const m = await pubsub.createSubscription(req.name, req.topic, {
        ...toMetadata(settings),
        ...(expression ? {filter: expression} : {}),
      });
      return fromMetadata(m);
    } catch (e) {
      const code = grpcCodeOf(e);
      if (code === GRPC.ALREADY_EXISTS) return undefined; // raced: compare
      if (code === GRPC.NOT_FOUND) throw topicMissing(req.topic);
      throw e;
    }
  }

  return {
    async touch(req) {
      const plan = planFor(req.topic, req.filter);
      const expression = plan.expression ?? '';
      let [record, state] = await Promise.all([
        store.get(req.name),
        readState(req.name),
      ]);
      let status: ChangeResult['status'] = 'unchanged';
      const changed: string[] = [];
      if (!state) {
        const settings = desiredSettings(config, req.name, req.overrides);
        const created = await create(req, expression, settings);
        if (created) {
          state = created;
          status = 'created';
        } else {
          // Another touch created it meanwhile: compare with what it made.
          [record, state] = await Promise.all([
            store.get(req.name),
            readState(req.name),
          ]);
          if (!state) {
            throw new PermanentError(
              'conflict',
              `subscription ${req.name} was created and deleted concurrently; try again`,
            );
          }
        }
      }
      if (status !== 'created') {
        const wantedSettings = desiredSettings(config, req.name, req.overrides);
        wantedSettings.labels = {...state.settings.labels, ...MANAGED_LABEL};
        const diff = diffState(state, {
          topic: req.topic,
          filter: expression,
          settings: wantedSettings,
        });
        if (diff.unchangeable.length) {
          const fields = diff.unchangeable.map(d => d.field);
          const what = diff.unchangeable
            .map(
              d =>
                `${d.field === 'filter' ? 'server-side filter' : d.field} is ${JSON.stringify(d.current)}, wanted ${JSON.stringify(d.wanted)}`,
            )
            .join('; ');
          throw new PermanentError(
            'conflict',
            `subscription ${req.name} exists with settings Pub/Sub cannot change (${what}). ` +
              `DELETE /subscriptions/${req.name} and touch it again to recreate it` +
              (fields.includes('filter')
                ? ', or PATCH only its stored filter (the old server-side expression then stays)'
                : ''),
            {fields, differences: diff.unchangeable},
          );
        }
        if (diff.changeable.length) {
          const m = await pubsub.updateSubscription(
            req.name,
            toMetadata(wantedSettings, diff.changeable),
          );
          state = fromMetadata(m);
          status = 'updated';
          changed.push(...diff.changeable);
        }
      }
      const next: SubscriptionRecord = {
        name: req.name,
        topic: req.topic,
        filter: req.filter,
        serverFilter: state.filter,
        settings: {...state.settings, ...(req.flow ? {flow: req.flow} : {})},
        retentionDays:
          req.retentionDays !== undefined
            ? req.retentionDays
            : (record?.retentionDays ?? null),
      };
      if (record && !sameJson(record.filter, req.filter))
        changed.push('filter');
      if (record && (record.retentionDays ?? null) !== next.retentionDays) {
        changed.push('retentionDays');
      }
      if (
        record &&
        !sameJson((record.settings as {flow?: unknown}).flow, req.flow)
      ) {
        changed.push('flow');
      }
      const wrote = await saveRecord(record, next);
      if (wrote && status === 'unchanged') status = 'updated';
      const saved = wrote ? await store.get(req.name) : record;
      const message =
        status === 'created'
          ? `created subscription ${req.name} on ${req.topic}`
          : status === 'updated'
            ? `updated subscription ${req.name}: ${changed.length ? changed.join(', ') : 'stored record'}`
            : `subscription ${req.name} already exists as requested; nothing changed`;
      deps.log?.info('touch', {subscription: req.name, status, changed});
      return {
        status,
        changed,
        message,
        subscription: resource(req.name, saved, state),
      };
    },

    async get(name) {
      const [record, state] = await Promise.all([
        store.get(name),
        readState(name),
      ]);
      if (!record && !state) throw notFound(name);
      const r = resource(name, record, state);
      r.counts = await counts.count(name);
      return r;
    },

    async list() {
      const records = await store.list();
      return Promise.all(
        records.map(async rec => {
          const [state, c] = await Promise.all([
            readState(rec.name),
            counts.count(rec.name),
          ]);
          return {...resource(rec.name, rec, state), counts: c};
        }),
      );
    },

    async patch(name, req) {
      const [record, state] = await Promise.all([
        store.get(name),
        readState(name),
      ]);
      if (!state) {
        if (!record) throw notFound(name);
        throw new PermanentError(
          'not-found',
          `the Pub/Sub subscription ${name} no longer exists (expired or deleted); touch it (PUT /subscriptions/${name}) to recreate it`,
          {subscription: name},
        );
      }
      const changed: string[] = [];
      let current = state;
      const wanted = withOverrides(current.settings, req.overrides, config);
      const diff = diffState(current, {...current, settings: wanted});
      if (diff.changeable.length) {
        current = fromMetadata(
          await pubsub.updateSubscription(
            name,
            toMetadata(wanted, diff.changeable),
          ),
        );
        changed.push(...diff.changeable);
      }
      const filter =
        req.filter !== undefined ? req.filter : (record?.filter ?? null);
      if (!sameJson(filter, record?.filter ?? null)) changed.push('filter');
      const retentionDays =
        req.retentionDays !== undefined
          ? req.retentionDays
          : (record?.retentionDays ?? null);
      if (retentionDays !== (record?.retentionDays ?? null)) {
        changed.push('retentionDays');
      }
      const next: SubscriptionRecord = {
        name,
        topic: current.topic,
        filter,
        serverFilter: current.filter,
        settings: {
          ...current.settings,
          ...((record?.settings as {flow?: FlowSettings} | undefined)?.flow
            ? {flow: (record!.settings as {flow: FlowSettings}).flow}
            : {}),
        },
        retentionDays,
      };
      const wrote = await saveRecord(record, next);
      const saved = wrote ? await store.get(name) : record;
      const r = resource(name, saved, current);
      const status: ChangeResult['status'] =
        changed.length || wrote ? 'updated' : 'unchanged';
      let message =
        status === 'updated'
          ? `updated subscription ${name}: ${changed.join(', ') || 'stored record'}`
          : `nothing changed on subscription ${name}`;
      if (r.recreateRequired) {
        message +=
          `. The filter's server-side expression is now ${JSON.stringify(r.plan.expression ?? '')} ` +
          `but Pub/Sub cannot change the subscription's (${JSON.stringify(r.serverFilter)}): ` +
          'the whole filter runs in the ingest function at once, but Pub/Sub still drops messages that fail the old expression. ' +
          `DELETE /subscriptions/${name} and touch it again to recreate it with the new expression.`;
      }
      deps.log?.info('patch', {subscription: name, status, changed});
      return {status, changed, message, subscription: r};
    },

    async delete(name, opts = {}) {
      const subscriptionDeleted = await pubsub.deleteSubscription(name);
      const record = await store.get(name);
      if (record) await store.delete(name);
      const purged = opts.purge ? await counts.purge(name) : undefined;
      const parts = [
        subscriptionDeleted
          ? `deleted subscription ${name}`
          : `subscription ${name} did not exist`,
        record ? 'deleted its stored filter' : 'no stored filter',
      ];
      if (purged) {
        parts.push(
          `purged ${purged.alerts} alerts and ${purged.quarantined} quarantined messages` +
            (purged.complete
              ? ''
              : ' (not finished within the time budget: call DELETE ?purge=true again)'),
        );
      } else {
        parts.push('stored alerts kept (?purge=true deletes them)');
      }
      deps.log?.info('delete', {
        subscription: name,
        subscriptionDeleted,
        purged,
      });
      return {
        name,
        subscriptionDeleted,
        recordDeleted: record !== undefined,
        ...(purged ? {purged} : {}),
        message: parts.join('; '),
      };
    },

    async seek(name, time) {
      const state = await readState(name);
      if (!state) throw notFound(name);
      await pubsub.seek(name, time);
      const retain = state.settings.retainAckedMessages;
      deps.log?.info('seek', {subscription: name, time: time.toISOString()});
      return {
        name,
        time: time.toISOString(),
        retainAckedMessages: retain,
        message: retain
          ? `messages retained since ${time.toISOString()} are delivered again (acknowledged ones too)`
          : `only messages not yet acknowledged since ${time.toISOString()} are delivered again: ` +
            'the subscription does not retain acknowledged messages (touch or PATCH with "retainAckedMessages": true)',
      };
    },
  };
}
