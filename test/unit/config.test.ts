import {strict as assert} from 'node:assert';
import {describe, it} from 'node:test';

import {loadConfig} from '../../src/config';
import {AlertError} from '../../src/errors';
import {createLogger} from '../../src/log';

describe('config', () => {
  it('has defaults that match the Pitt-Google broker', () => {
    const c = loadConfig({});
    assert.equal(c.pittGoogleProject, 'ardent-cycling-243415');
    assert.equal(c.alertsCollection, 'alerts');
    assert.equal(c.cutouts, 'separate');
    assert.equal(c.cutoutsCollection, 'cutouts');
    assert.equal(c.quarantineRetentionDays, 30);
    assert.equal(c.logLevel, 'INFO');
  });

  it('parses values and refuses bad ones with the variable name', () => {
    const c = loadConfig({KEEP_CUTOUTS: 'yes', FILTER_CACHE_TTL_MS: '250'});
    assert.equal(
      c.cutouts,
      'inline',
      'KEEP_CUTOUTS=true: the deprecated alias of inline',
    );
    assert.equal(c.filterCacheTtlMs, 250);
    assert.equal(loadConfig({KEEP_CUTOUTS: 'false'}).cutouts, 'separate');
    assert.equal(loadConfig({CUTOUTS: 'drop'}).cutouts, 'drop');
    assert.equal(
      loadConfig({CUTOUTS: 'separate', KEEP_CUTOUTS: 'true'}).cutouts,
      'separate',
      'CUTOUTS wins over the deprecated variable',
    );
    assert.equal(
      loadConfig({QUARANTINE_RETENTION_DAYS: '0'}).quarantineRetentionDays,
      0,
    );
    assert.throws(
      () => loadConfig({CUTOUTS: 'keep'}),
      (e: AlertError) =>
        e.code === 'bad-config' && /CUTOUTS must be one of/.test(e.message),
    );
    assert.throws(
      () => loadConfig({QUARANTINE_RETENTION_DAYS: '-1'}),
      /QUARANTINE_RETENTION_DAYS/,
    );
    assert.throws(
      () => loadConfig({KEEP_CUTOUTS: 'maybe'}),
      (e: AlertError) =>
        e.code === 'bad-config' && /KEEP_CUTOUTS/.test(e.message),
    );
    assert.throws(
      () => loadConfig({ALERTS_COLLECTION: '../etc'}),
      /ALERTS_COLLECTION/,
    );
    assert.throws(() => loadConfig({LOG_LEVEL: 'loud'}), /LOG_LEVEL/);
  });
});

describe('log', () => {
  it('writes one JSON line per event with a severity, bigint as exact strings', () => {
    const lines: string[] = [];
    const log = createLogger({sink: l => lines.push(l), minSeverity: 'INFO'});
    log.debug('hidden');
    log
      .child({subscription: 's'})
      .info('stored', {sourceId: 2982177112815010003n});
    assert.equal(lines.length, 1);
    const entry = JSON.parse(lines[0]);
    assert.deepEqual(entry, {
      severity: 'INFO',
      message: 'stored',
      subscription: 's',
      sourceId: '2982177112815010003',
    });
  });
});
