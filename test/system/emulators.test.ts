import {strict as assert} from 'node:assert';
import {spawn} from 'node:child_process';
import {chmod, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, it} from 'node:test';

import {Firestore} from '@google-cloud/firestore';

import {AlertError} from '../../src/errors';
import {
  INSTALL_COMMAND,
  runningEmulators,
  startEmulators,
  startFirestoreEmulator,
} from '../../src/local/emulators';
import {isPortFree} from '../../src/local/ports';
import {groupMembers} from '../../src/local/process-group';
import {
  firestoreEmulatorSettings,
  pubsubForEmulator,
} from '../helpers/emulator-fixture';

describe('emulators', () => {
  it('start both, answer real client calls, and leave nothing behind when stopped', async () => {
    const emu = await startEmulators({pubsub: true, firestore: true});
    const {pubsub, firestore} = emu;
    assert.ok(pubsub && firestore);
    try {
      assert.match(pubsub.host, /^127\.0\.0\.1:\d+$/);
      assert.equal(emu.env.PUBSUB_EMULATOR_HOST, pubsub.host);
      assert.equal(emu.env.FIRESTORE_EMULATOR_HOST, firestore.host);
      // Each runs in its own process group with the Java child in it.
      assert.ok(groupMembers(pubsub.pid).length >= 2);
      assert.ok(groupMembers(firestore.pid).length >= 2);

      const ps = pubsubForEmulator(pubsub.host, 'emu-test');
      const [topic] = await ps.createTopic('topic-1');
      const [exists] = await topic.exists();
      assert.equal(exists, true);
      await ps.close();

      const db = new Firestore(
        firestoreEmulatorSettings(firestore.host, 'emu-test'),
      );
      await db.doc('c/d').create({n: 1});
      assert.deepEqual((await db.doc('c/d').get()).data(), {n: 1});
      await db.terminate();
    } finally {
      await emu.stop();
    }
    for (const e of [pubsub, firestore]) {
      assert.deepEqual(groupMembers(e.pid), [], `${e.kind} group is gone`);
      assert.equal(await isPortFree(e.port), true, `${e.kind} port is free`);
    }
    assert.equal(runningEmulators().length, 0);
    // stop() is idempotent.
    await emu.stop();
  });

  it('kills the emulator when the parent process exits without stopping it', async () => {
    const script = `
      const {startFirestoreEmulator} = require(${JSON.stringify(
        join(__dirname, '../../src/local/emulators.js'),
      )});
      startFirestoreEmulator().then(e => {
        process.stdout.write(JSON.stringify({pid: e.pid, port: e.port}));
        // No stop(): returning from here lets the process exit.
      });`;
    const child = spawn(process.execPath, ['-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', c => (out += c));
    const code = await new Promise(r => child.on('exit', r));
    assert.equal(code, 0);
    const {pid, port} = JSON.parse(out) as {pid: number; port: number};
    // SIGKILL was sent in the exit hook; give the kernel a moment.
    for (let i = 0; i < 50 && groupMembers(pid).length; i++) {
      await new Promise(r => setTimeout(r, 100));
    }
    assert.deepEqual(groupMembers(pid), []);
    // The kernel frees the listening port a moment after the process dies.
    let free = false;
    for (let i = 0; i < 50 && !(free = await isPortFree(port)); i++) {
      await new Promise(r => setTimeout(r, 100));
    }
    assert.equal(free, true);
  });

  it('fails clearly, with install instructions, when gcloud is missing', async () => {
    await assert.rejects(
      startFirestoreEmulator({gcloud: '/nonexistent/bin/gcloud'}),
      (e: AlertError) =>
        e.permanent &&
        e.code === 'emulator-missing' &&
        e.message.includes(INSTALL_COMMAND),
    );
  });

  it('fails clearly when the emulator component is not installed', async () => {
    const root = await mkdtemp(join(tmpdir(), 'fake-sdk-'));
    try {
      await mkdir(join(root, 'bin'));
      await mkdir(join(root, 'platform'));
      const gcloud = join(root, 'bin', 'gcloud');
      await writeFile(gcloud, '#!/bin/sh\nexit 1\n');
      await chmod(gcloud, 0o755);
      await assert.rejects(
        startEmulators({pubsub: true}, {gcloud}),
        (e: AlertError) =>
          e.code === 'emulator-missing' &&
          /pubsub emulator component/.test(e.message) &&
          e.message.includes(INSTALL_COMMAND),
      );
    } finally {
      await rm(root, {recursive: true, force: true});
    }
  });

  it("reports the emulator's output when it dies during start-up", async () => {
    const root = await mkdtemp(join(tmpdir(), 'fake-gcloud-'));
    try {
      const gcloud = join(root, 'gcloud'); // not an SDK layout: no component check
      await writeFile(
        gcloud,
        '#!/bin/sh\necho "ERROR: (gcloud) something specific broke" >&2\nexit 2\n',
      );
      await chmod(gcloud, 0o755);
      await assert.rejects(
        startFirestoreEmulator({gcloud, startTimeoutMs: 10_000}),
        (e: AlertError) =>
          e.code === 'emulator-failed' &&
          /exited during start-up \(code 2\)/.test(e.message) &&
          /something specific broke/.test(e.message),
      );
    } finally {
      await rm(root, {recursive: true, force: true});
    }
  });
});
