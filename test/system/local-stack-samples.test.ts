/**
 * The local stack replays the real packets shipped in samples/ first: the
 * ZTF ones to ztf-loop (through its default filter, classtar >= 0.5), the
 * LSST ones to lsst-alerts (stores everything), then generated packets;
 * every real alert ends up stored, with its histories.
 */

import {strict as assert} from 'node:assert';
import {spawnSync} from 'node:child_process';
import * as path from 'node:path';
import {describe, it} from 'node:test';

import {firestoreClient} from '../../src/local/clients';
import {
  LSST_NAME,
  LOOP_NAME,
  startLocalStack,
  StoredAlertEvent,
} from '../../src/local/stack';
import {waitFor} from '../helpers/wait';
import {realSamples} from '../helpers/real-samples';

const CLI = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');

describe('local stack with the real samples', () => {
  it('stores every real ZTF alert in ztf-loop and the real LSST alert in lsst-alerts, then the generated ones', async () => {
    const real = await realSamples();
    const ztf = real.filter(s => s.survey === 'ztf');
    const lsst = real.filter(s => s.survey === 'lsst');
    // The default filter lets every real ZTF sample through.
    assert.ok(
      ztf.every(s => s.alert.classtar !== null && s.alert.classtar >= 0.5),
    );
    const lsstIds = new Set(lsst.map(s => s.alert.sourceId));

    const stored: StoredAlertEvent[] = [];
    const warnings: string[] = [];
    const stack = await startLocalStack({
      rate: 20,
      generate: 3,
      loop: false,
      onStored: e => stored.push(e),
      onWarning: w => warnings.push(w),
    });
    try {
      assert.equal(stack.lsst?.subscription, LSST_NAME);
      assert.equal(
        stack.lsst?.topic,
        'projects/pitt-alert-broker/topics/lsst-alerts',
      );
      const published = await stack.replayDone;
      assert.equal(published, ztf.length + 3 + lsst.length);
      const expected = (sub: string, ids: Iterable<string>) =>
        [...ids].map(id => `${sub}/${id}`);
      const want = [
        ...expected(
          LOOP_NAME,
          ztf.map(s => s.alert.sourceId),
        ),
        ...expected(LSST_NAME, lsstIds),
      ];
      await waitFor(
        'every real alert stored',
        () => {
          const have = new Set(
            stored.map(e => `${e.subscription}/${e.sourceId}`),
          );
          return want.every(w => have.has(w)) ? true : undefined;
        },
        90_000,
      );
      // Every message answered: the 7 LSST packets share one diaSourceId.
      const c = await waitFor(
        'every message answered',
        () => {
          const c = stack.counts();
          return c.stored + c.duplicate + c.filtered + c.quarantined >=
            published
            ? c
            : undefined;
        },
        60_000,
      );
      assert.equal(c.quarantined, 0);
      assert.equal(c.duplicate, lsst.length - lsstIds.size);

      const db = firestoreClient({
        projectId: stack.projectId,
        host: stack.firestoreHost,
      });
      try {
        for (const s of ztf) {
          const snap = await db
            .collection('subscriptions')
            .doc(LOOP_NAME)
            .collection('alerts')
            .where('sourceId', '==', s.alert.sourceId)
            .get();
          assert.equal(snap.size, 1, s.file);
          const d = snap.docs[0];
          assert.equal(d.get('objectId'), s.alert.objectId);
          const prv = JSON.parse(
            d.get('histories.prv_candidates') as string,
          ) as unknown[];
          assert.equal(
            prv.length,
            (s.alert.record.prv_candidates as unknown[]).length,
            s.file,
          );
        }
        const l = await db
          .collection('subscriptions')
          .doc(LSST_NAME)
          .collection('alerts')
          .get();
        assert.deepEqual(
          l.docs.map(d => d.get('sourceId')),
          [...lsstIds],
        );
        assert.equal(l.docs[0].get('survey'), 'lsst');
        assert.equal(
          JSON.parse(l.docs[0].get('histories.prvDiaSources') as string).length,
          2,
        );
      } finally {
        await db.terminate();
      }
      assert.deepEqual(warnings, []);
    } finally {
      await stack.stop();
    }
  });

  it('--generated-only and --samples exclude each other', () => {
    const r = spawnSync(
      process.execPath,
      [CLI, 'start', '--generated-only', '--samples', 'x'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--generated-only and --samples exclude each other/);
  });
});
