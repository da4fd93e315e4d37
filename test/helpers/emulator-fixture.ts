/**
 * node:test helper: starts the needed emulators once per test file (or per
 * `describe`), hands out clients configured for them and stops everything
 * afterwards.
 *
 *   const emu = useEmulators({firestore: true});
 *   it('...', async () => {
 *     const db = emu.firestore();            // a fresh, isolated project
 *     ...
 *   });
 *
 * Isolation: every `firestore()` call without a project id returns a client
 * for a new unique project id; the emulator keeps projects apart, so tests
 * never see each other's documents. The clients are configured explicitly
 * (host + ssl: false, apiEndpoint + emulatorMode) and do not rely on
 * FIRESTORE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST unless `setEnv` is asked for.
 */

import {randomBytes} from 'node:crypto';
import {after, before} from 'node:test';

import {Firestore, Settings} from '@google-cloud/firestore';
import {PubSub} from '@google-cloud/pubsub';

import {
  EmulatorOptions,
  RunningEmulators,
  startEmulators,
} from '../../src/local/emulators';

export interface EmulatorFixture {
  /** The started emulators (throws before the `before` hook ran). */
  readonly emulators: RunningEmulators;
  /** A new unique id, usable as a project id, collection prefix or name. */
  uniqueId(prefix?: string): string;
  /**
   * A Firestore client for the emulator. Without `projectId`: a new unique
   * project (isolated from every other test). Terminated in `after`.
   */
  firestore(projectId?: string, settings?: Settings): Firestore;
  /** A Pub/Sub client for the emulator (default project: a unique id). */
  pubsub(projectId?: string): PubSub;
}

export interface FixtureOptions extends Omit<EmulatorOptions, 'port'> {
  pubsub?: boolean;
  firestore?: boolean;
  /** Also set the *_EMULATOR_HOST variables in process.env (restored in `after`). */
  setEnv?: boolean;
}

/** Settings for a Firestore client talking to the emulator at `host`. */
export function firestoreEmulatorSettings(
  host: string,
  projectId: string,
): Settings {
  // An explicit universe domain spares google-auth its search for default
  // credentials (a metadata-server probe that warns and costs time offline).
  return {projectId, host, ssl: false, universeDomain: 'googleapis.com'};
}

/** A Pub/Sub client talking to the emulator at `host`. */
export function pubsubForEmulator(host: string, projectId: string): PubSub {
  return new PubSub({
    projectId,
    apiEndpoint: host,
    emulatorMode: true,
    universeDomain: 'googleapis.com',
  });
}

export function useEmulators(options: FixtureOptions): EmulatorFixture {
  const {pubsub, firestore, setEnv, ...emulatorOptions} = options;
  let emulators: RunningEmulators | undefined;
  const savedEnv: Record<string, string | undefined> = {};
  const firestores: Firestore[] = [];
  const pubsubs: PubSub[] = [];

  before(async () => {
    emulators = await startEmulators({pubsub, firestore}, emulatorOptions);
    if (setEnv) {
      for (const [k, v] of Object.entries(emulators.env)) {
        savedEnv[k] = process.env[k];
        process.env[k] = v;
      }
    }
  });

  after(async () => {
    await Promise.allSettled([
      ...firestores.map(f => f.terminate()),
      ...pubsubs.map(p => p.close()),
    ]);
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await emulators?.stop();
  });

  const started = (): RunningEmulators => {
    if (!emulators) {
      throw new Error('emulators not started: use the fixture inside tests');
    }
    return emulators;
  };
  const uniqueId = (prefix = 'test') =>
    `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

  return {
    get emulators() {
      return started();
    },
    uniqueId,
    firestore(projectId, settings) {
      const fs = started().firestore;
      if (!fs) throw new Error('the fixture was not asked for firestore');
      const client = new Firestore({
        ...firestoreEmulatorSettings(fs.host, projectId ?? uniqueId('proj')),
        ...settings,
      });
      firestores.push(client);
      return client;
    },
    pubsub(projectId) {
      const ps = started().pubsub;
      if (!ps) throw new Error('the fixture was not asked for pubsub');
      const client = pubsubForEmulator(ps.host, projectId ?? uniqueId('proj'));
      pubsubs.push(client);
      return client;
    },
  };
}
