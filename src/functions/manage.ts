/**
 * The manage function's HTTP handler: JSON over REST on /subscriptions (see
 * docs/manage.md). A thin layer: size limit, optional ID-token check, route
 * and body parsing (pure, src/manage/request.ts), then the injected
 * {@link SubscriptionManager}. Errors answer
 * `{"error": {"code", "message", "details"}}` with the status of their
 * reason code.
 */

import {Firestore} from '@google-cloud/firestore';
import type {Request, Response} from '@google-cloud/functions-framework';
import {PubSub} from '@google-cloud/pubsub';

import {
  createIdTokenVerifier,
  GCLOUD_CLIENT_ID,
  httpKeySource,
  IdTokenVerifier,
} from '../auth/id-token';
import type {Config} from '../config';
import {AlertError, errorMessage, ReasonCode, TransientError} from '../errors';
import type {Logger} from '../log';
import {createSubscriptionStore} from '../store/subscription-store';
import {
  createAlertCounts,
  createPubSubPort,
  createSubscriptionManager,
  parsePatchBody,
  parsePurge,
  parseRoute,
  parseSeekBody,
  parseTouchBody,
  SubscriptionManager,
} from '../manage';

export const MAX_MANAGE_BODY = 64 * 1024;

export interface ManageHandlerDeps {
  manager: SubscriptionManager;
  pittGoogleProject: string;
  log: Logger;
  /** When set, every request needs a valid Google ID token of an allowed email. */
  auth?: {
    verifier: IdTokenVerifier;
    /** Accepted audiences; empty: this function's URL (from the Host header) and the gcloud CLI's client id. */
    audiences: readonly string[];
  };
  maxBodyBytes?: number;
}

const STATUS: Partial<Record<ReasonCode, number>> = {
  'bad-request': 400,
  'invalid-name': 400,
  'invalid-filter': 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  'method-not-allowed': 405,
  conflict: 409,
  'too-large': 413,
  'pubsub-rejected': 502,
  'bad-config': 500,
  internal: 500,
};

/** HTTP status of a typed error. */
export function statusOf(e: AlertError): number {
  return STATUS[e.code] ?? (e.kind === 'transient' ? 503 : 500);
}

/** Details safe to show: plain values only, never causes or stacks. */
function publicDetails(d: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(d, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
  );
}

function sendError(res: Response, e: AlertError) {
  const status = statusOf(e);
  if (e.code === 'method-not-allowed' && Array.isArray(e.details.allow)) {
    res.set('Allow', (e.details.allow as string[]).join(', '));
  }
  if (status === 401) res.set('WWW-Authenticate', 'Bearer');
  res.status(status).json({
    error: {
      code: e.code,
      message: e.message,
      details: publicDetails(e.details),
    },
  });
}

function header(req: Request, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function createManageHandler(deps: ManageHandlerDeps) {
  const maxBody = deps.maxBodyBytes ?? MAX_MANAGE_BODY;

  async function handle(req: Request, res: Response): Promise<void> {
    const size = req.rawBody?.length ?? 0;
    if (size > maxBody) {
      throw new AlertError(
        'permanent',
        'too-large',
        `request body of ${size} bytes exceeds ${maxBody}`,
        {
          bytes: size,
          limit: maxBody,
        },
      );
    }
    if (deps.auth) {
      const host = header(req, 'host');
      const audiences = deps.auth.audiences.length
        ? deps.auth.audiences
        : [...(host ? [`https://${host}`] : []), GCLOUD_CLIENT_ID];
      const caller = await deps.auth.verifier.verifyHeader(
        header(req, 'authorization'),
        audiences,
      );
      deps.log.debug('caller', {email: caller.email});
    }
    const route = parseRoute(req.method, req.path);
    const m = deps.manager;
    switch (route.action) {
      case 'list':
        res.status(200).json({subscriptions: await m.list()});
        return;
      case 'get':
        res.status(200).json(await m.get(route.name));
        return;
      case 'touch': {
        const r = await m.touch(
          parseTouchBody(route.name, req.body, deps.pittGoogleProject),
        );
        res.status(r.status === 'created' ? 201 : 200).json(r);
        return;
      }
      case 'patch':
        res
          .status(200)
          .json(await m.patch(route.name, parsePatchBody(req.body)));
        return;
      case 'delete':
        res
          .status(200)
          .json(
            await m.delete(route.name, {purge: parsePurge(req.query?.purge)}),
          );
        return;
      case 'seek':
        res.status(200).json(await m.seek(route.name, parseSeekBody(req.body)));
        return;
    }
  }

  return async function manage(req: Request, res: Response): Promise<void> {
    const t0 = Date.now();
    try {
      await handle(req, res);
      deps.log.info('request', {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Date.now() - t0,
      });
    } catch (e) {
      const err =
        e instanceof AlertError
          ? e
          : new TransientError('internal', errorMessage(e), {}, {cause: e});
      const status = statusOf(err);
      deps.log[status >= 500 ? 'error' : 'info']('request failed', {
        method: req.method,
        path: req.path,
        status,
        reason: err.code,
        error: err.message,
      });
      sendError(res, err);
    }
  };
}

/** Builds the manage function's dependencies from the configuration (once per instance). */
export function createManageContext(
  config: Config,
  firestore: Firestore,
  log: Logger,
  opts: {pubsub?: PubSub} = {},
): ManageHandlerDeps {
  // The emulator is selected by PUBSUB_EMULATOR_HOST.
  const pubsub = opts.pubsub ?? new PubSub({projectId: config.projectId});
  const manager = createSubscriptionManager({
    pubsub: createPubSubPort(pubsub),
    store: createSubscriptionStore(firestore, config),
    counts: createAlertCounts(firestore, config),
    config,
    log,
  });
  const auth = config.authAllowedEmails.length
    ? {
        verifier: createIdTokenVerifier({
          allowedEmails: config.authAllowedEmails,
          keySource: httpKeySource(config.authCertsUrl),
        }),
        audiences: config.authAudiences,
      }
    : undefined;
  return {manager, pittGoogleProject: config.pittGoogleProject, log, auth};
}
