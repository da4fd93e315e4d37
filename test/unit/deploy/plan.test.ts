import {strict as assert} from 'node:assert';
import {readFileSync} from 'node:fs';
import {resolve} from 'node:path';
import {describe, it} from 'node:test';

import {AlertError} from '../../../src/errors';
import {
  DeployConfig,
  parseDeployConfig,
  RawDeployOptions,
} from '../../../src/deploy/config';
import {parseIndexFile} from '../../../src/deploy/indexes';
import {buildDeployPlan} from '../../../src/deploy/plan';
import {GcloudStep, PLACEHOLDER, Step} from '../../../src/deploy/steps';
import {buildTeardownPlan} from '../../../src/deploy/teardown';
import {renderPlan, shellQuote} from '../../../src/deploy/render';

const ROOT = resolve(__dirname, '..', '..', '..', '..');
const P = 'my-alerts-123';
const SA = (id: string) => `${id}@${P}.iam.gserviceaccount.com`;
const AGENT =
  'serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com';

function sample(extra: RawDeployOptions = {}): DeployConfig {
  return parseDeployConfig({
    project: P,
    'auth-allowed-emails': 'alice@example.org,bob@example.org',
    'manage-invokers': 'user:alice@example.org',
    'explore-invokers': 'group:astro@example.org',
    ...extra,
  });
}

function deployPlan(cfg = sample()): Step[] {
  return buildDeployPlan(cfg, {
    indexes: parseIndexFile(
      readFileSync(resolve(ROOT, 'deploy/firestore.indexes.json'), 'utf8'),
    ),
    rules: readFileSync(resolve(ROOT, 'deploy/firestore.rules'), 'utf8'),
  });
}

const gcloudSteps = (steps: Step[]) =>
  steps.filter((s): s is GcloudStep => s.kind === 'gcloud');

function find(steps: Step[], ...prefix: string[]): GcloudStep[] {
  return gcloudSteps(steps).filter(s =>
    prefix.every((p, i) => s.argv[i] === p),
  );
}

function flag(step: GcloudStep, name: string): string | undefined {
  const a = step.argv.find(x => x.startsWith(`--${name}=`));
  return a?.slice(name.length + 3);
}

/** Parses --set-env-vars, including gcloud's ^DELIM^ form. */
function envOf(step: GcloudStep): Record<string, string> {
  let v = flag(step, 'set-env-vars');
  assert.ok(v, 'the function gets its environment');
  let delim = ',';
  const m = /^\^([^^]+)\^/.exec(v);
  if (m) {
    delim = m[1];
    v = v.slice(m[0].length);
  }
  return Object.fromEntries(
    v
      .split(delim)
      .map(kv => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

/** Every `member role [on resource]` the plan grants. */
function grants(steps: Step[]): string[] {
  return gcloudSteps(steps)
    .filter(s => s.argv.some(a => /add-(iam|invoker)-policy-binding/.test(a)))
    .map(s => {
      const on =
        s.argv[0] === 'projects'
          ? 'project'
          : s.argv[
              s.argv.indexOf(s.argv.find(a => a.endsWith('-binding'))!) + 1
            ];
      return `${flag(s, 'member')} ${flag(s, 'role') ?? 'roles/run.invoker'} on ${on}`;
    })
    .sort();
}

describe('deploy plan', () => {
  it('deploys the three functions as gen2 nodejs22 HTTP functions that refuse unauthenticated callers', () => {
    const steps = deployPlan();
    const deploys = find(steps, 'functions', 'deploy');
    assert.deepEqual(
      deploys.map(s => s.argv[2]),
      ['pittgoogle-ingest', 'pittgoogle-manage', 'explore'],
    );
    for (const [s, entry] of [
      [deploys[0], 'ingest'],
      [deploys[1], 'manage'],
      [deploys[2], 'explore'],
    ] as const) {
      for (const f of [
        '--gen2',
        '--runtime=nodejs22',
        '--trigger-http',
        '--no-allow-unauthenticated',
        '--source=.',
        `--project=${P}`,
        '--region=us-central1',
      ]) {
        assert.ok(s.argv.includes(f), `${entry} has ${f}`);
      }
      assert.equal(flag(s, 'entry-point'), entry);
      assert.equal(flag(s, 'service-account'), SA(`pittgoogle-${entry}`));
      assert.ok(!s.argv.includes('--allow-unauthenticated'));
    }
    assert.equal(flag(deploys[0], 'concurrency'), '16');
    assert.equal(flag(deploys[0], 'cpu'), '1');
    assert.equal(flag(deploys[0], 'ignore-file'), 'deploy/gcloudignore');
  });

  it('gives each function its validated environment', () => {
    const [ingest, manage, explore] = find(deployPlan(), 'functions', 'deploy');
    const common = {
      GOOGLE_CLOUD_PROJECT: P,
      PITTGOOGLE_PROJECT: 'ardent-cycling-243415',
      ALERTS_COLLECTION: 'alerts',
      QUARANTINE_COLLECTION: 'quarantine',
      SUBSCRIPTIONS_COLLECTION: 'subscriptions',
      CUTOUTS_COLLECTION: 'cutouts',
      CUTOUTS: 'separate',
      QUARANTINE_RETENTION_DAYS: '30',
      LOG_LEVEL: 'INFO',
      NODE_ENV: 'production',
    };
    // The ingest function's V8 young generation, sized for its throughput
    // (a 512 MiB instance would otherwise get 1 MiB semi-spaces).
    assert.deepEqual(envOf(ingest), {
      ...common,
      NODE_OPTIONS: '--max-semi-space-size=8',
    });
    // The explorer reads the same layout and nothing else.
    assert.deepEqual(envOf(explore), common);
    assert.deepEqual(envOf(manage), {
      ...common,
      INGEST_URL: '${INGEST_URL}',
      PUSH_SERVICE_ACCOUNT: SA('pittgoogle-push'),
      DEAD_LETTER_TOPIC: `projects/${P}/topics/pittgoogle-dead-letter`,
      MAX_DELIVERY_ATTEMPTS: '10',
      ACK_DEADLINE_SECONDS: '600',
      RETRY_MIN_BACKOFF_SECONDS: '10',
      RETRY_MAX_BACKOFF_SECONDS: '600',
      // The comma list survives because the flag switched delimiter.
      AUTH_ALLOWED_EMAILS: 'alice@example.org,bob@example.org',
    });
    const custom = find(
      deployPlan(
        sample({
          'keep-cutouts': 'yes',
          'retry-min-backoff': '30',
          'quarantine-retention-days': '0',
          'schema-source': 'schemas/lsst',
          'log-level': 'debug',
          'max-delivery-attempts': '5',
        }),
      ),
      'functions',
      'deploy',
    );
    // The deprecated --keep-cutouts=true is --cutouts=inline.
    assert.equal(envOf(custom[0]).CUTOUTS, 'inline');
    assert.equal(envOf(custom[0]).QUARANTINE_RETENTION_DAYS, '0');
    assert.equal(envOf(custom[1]).RETRY_MIN_BACKOFF_SECONDS, '30');
    assert.equal(
      envOf(
        find(deployPlan(sample({cutouts: 'drop'})), 'functions', 'deploy')[0],
      ).CUTOUTS,
      'drop',
    );
    assert.equal(envOf(custom[0]).SCHEMA_SOURCE, 'schemas/lsst');
    assert.equal(envOf(custom[1]).LOG_LEVEL, 'DEBUG');
    assert.equal(envOf(custom[1]).MAX_DELIVERY_ATTEMPTS, '5');
    assert.equal(
      envOf(custom[1]).AUTH_ALLOWED_EMAILS,
      'alice@example.org,bob@example.org',
    );
  });

  it('grants exactly the least roles, and nothing to allUsers', () => {
    const steps = deployPlan();
    const push = `serviceAccount:${SA('pittgoogle-push')}`;
    const manage = `serviceAccount:${SA('pittgoogle-manage')}`;
    const ingest = `serviceAccount:${SA('pittgoogle-ingest')}`;
    const explore = `serviceAccount:${SA('pittgoogle-explore')}`;
    assert.deepEqual(
      grants(steps),
      [
        `${AGENT} roles/iam.serviceAccountTokenCreator on ${SA('pittgoogle-push')}`,
        `${AGENT} roles/pubsub.publisher on pittgoogle-dead-letter`,
        `${AGENT} roles/pubsub.subscriber on project`,
        `${ingest} roles/datastore.user on project`,
        `${explore} roles/datastore.viewer on project`,
        `${manage} roles/datastore.user on project`,
        `${manage} roles/iam.serviceAccountUser on ${SA('pittgoogle-push')}`,
        `${manage} roles/pubsub.editor on project`,
        `${push} roles/run.invoker on pittgoogle-ingest`,
        'user:alice@example.org roles/run.invoker on pittgoogle-manage',
        'group:astro@example.org roles/run.invoker on explore',
      ].sort(),
    );
    const all = steps.flatMap(s =>
      s.kind === 'gcloud' ? s.argv : [s.url, JSON.stringify(s.body)],
    );
    assert.ok(
      !all.some(a =>
        /allUsers|allAuthenticatedUsers|roles\/(owner|editor)\b/.test(a),
      ),
    );
    for (const s of find(steps, 'projects', 'add-iam-policy-binding')) {
      assert.ok(
        s.argv.includes('--condition=None'),
        'no interactive condition prompt',
      );
    }
  });

  it('creates the accounts, the dead-letter topic and its keeper, and the database, tolerating re-runs', () => {
    const steps = deployPlan();
    const sas = find(steps, 'iam', 'service-accounts', 'create');
    assert.deepEqual(
      sas.map(s => s.argv[3]),
      [
        'pittgoogle-ingest',
        'pittgoogle-manage',
        'pittgoogle-push',
        'pittgoogle-explore',
      ],
    );
    const [topic] = find(steps, 'pubsub', 'topics', 'create');
    assert.equal(topic.argv[3], 'pittgoogle-dead-letter');
    const [keep] = find(steps, 'pubsub', 'subscriptions', 'create');
    assert.equal(flag(keep, 'topic'), 'pittgoogle-dead-letter');
    const [db] = find(steps, 'firestore', 'databases', 'create');
    assert.equal(flag(db, 'location'), 'nam5');
    assert.equal(flag(db, 'type'), 'firestore-native');
    for (const s of [
      ...sas,
      topic,
      keep,
      db,
      ...find(steps, 'firestore', 'indexes', 'composite', 'create'),
    ]) {
      assert.equal(s.ignoreAlreadyExists, true, s.description);
    }
    const [enable] = find(steps, 'services', 'enable');
    for (const api of [
      'cloudfunctions',
      'run',
      'cloudbuild',
      'artifactregistry',
      'pubsub',
      'firestore',
      'firebaserules',
    ]) {
      assert.ok(enable.argv.includes(`${api}.googleapis.com`), api);
    }
  });

  it('captures every placeholder before it is used, and the URL before manage is deployed', () => {
    const steps = deployPlan();
    const captured = new Set<string>();
    for (const s of steps) {
      const text =
        s.kind === 'gcloud' ? s.argv.join(' ') : s.url + JSON.stringify(s.body);
      for (const m of text.matchAll(new RegExp(PLACEHOLDER.source, 'g'))) {
        assert.ok(
          captured.has(m[1]),
          `\${${m[1]}} is captured before "${s.description}"`,
        );
      }
      if (s.capture) captured.add(s.capture);
    }
    assert.deepEqual([...captured].sort(), [
      'INGEST_URL',
      'PROJECT_NUMBER',
      'RULESET_NAME',
    ]);
    const withNumber = deployPlan(sample({'project-number': '123456789012'}));
    assert.ok(!withNumber.some(s => s.capture === 'PROJECT_NUMBER'));
    assert.ok(
      JSON.stringify(withNumber).includes('${PROJECT_NUMBER}') === false,
    );
  });

  it('deploys indexes from the file, the TTL policies, and deny-all rules', () => {
    const steps = deployPlan();
    const exempt = find(
      steps,
      'firestore',
      'indexes',
      'fields',
      'update',
    ).filter(s => s.argv.includes('--disable-indexes'));
    const exemptOf = (group: string) =>
      exempt
        .filter(s => flag(s, 'collection-group') === group)
        .map(s => s.argv[4])
        .sort();
    assert.deepEqual(exemptOf('alerts'), [
      'attributes',
      'cutouts',
      'expireAt',
      'histories',
      'ingestTime',
      'jd',
      'messageId',
      'mjd',
      'objectId',
      'publishTime',
      'record',
      'sourceId',
      'tom',
    ]);
    assert.ok(exemptOf('cutouts').includes('science'));
    assert.ok(exemptOf('quarantine').includes('data'));
    const composite = find(
      steps,
      'firestore',
      'indexes',
      'composite',
      'create',
    );
    assert.equal(composite.length, 10);
    for (const s of composite) {
      assert.ok(
        s.argv
          .find(a => a.startsWith('--field-config='))!
          .includes('field-path=shard,'),
        'every composite index leads with the shard',
      );
    }
    assert.ok(
      composite.some(
        s =>
          flag(s, 'query-scope') === 'collection-group' &&
          s.argv.includes('--field-config=field-path=objectId,order=ascending'),
      ),
    );
    // TTL on expireAt of each collection group, after its exemption.
    const ttl = find(steps, 'firestore', 'fields', 'ttls', 'update');
    assert.deepEqual(
      ttl.map(s => `${flag(s, 'collection-group')}.${s.argv[4]}`).sort(),
      ['alerts.expireAt', 'cutouts.expireAt', 'quarantine.expireAt'],
    );
    for (const s of ttl) {
      assert.ok(s.argv.includes('--enable-ttl'));
      const exemption = exempt.find(
        e =>
          e.argv[4] === 'expireAt' &&
          flag(e, 'collection-group') === flag(s, 'collection-group'),
      )!;
      assert.ok(steps.indexOf(exemption) < steps.indexOf(s));
    }
    const http = steps.filter(s => s.kind === 'http');
    const ruleset = http.find(s => s.capture === 'RULESET_NAME');
    assert.ok(
      ruleset &&
        JSON.stringify(ruleset.body).includes('allow read, write: if false'),
    );
    // Renamed collections get the same indexes under their own ids.
    const renamed = deployPlan(
      sample({
        'alerts-collection': 'ztf_alerts',
        'cutouts-collection': 'stamps',
      }),
    );
    assert.ok(
      find(renamed, 'firestore', 'indexes', 'composite', 'create').every(
        s => flag(s, 'collection-group') === 'ztf_alerts',
      ),
    );
    assert.ok(
      find(renamed, 'firestore', 'fields', 'ttls', 'update').some(
        s => flag(s, 'collection-group') === 'stamps',
      ),
    );
    // Without rules there is no REST call to the Rules API and no API to enable for it.
    const noRules = deployPlan(sample({rules: 'false'}));
    assert.ok(!JSON.stringify(noRules).includes('firebaserules'));
  });

  it('refuses invalid inputs with a message naming the flag', () => {
    const cases: Array<[RawDeployOptions, RegExp]> = [
      [{}, /--project is required/],
      [{project: 'My_Project'}, /--project must be a project id/],
      [{project: 'abc'}, /--project must be a project id/],
      [{project: 'ends-with-'}, /--project/],
      [{project: P, region: 'mars'}, /--region/],
      [{project: P, region: 'us-central1; rm -rf /'}, /--region/],
      [
        {project: P, 'max-delivery-attempts': '4'},
        /--max-delivery-attempts must be an integer in \[5, 100\]/,
      ],
      [{project: P, 'max-delivery-attempts': '101'}, /--max-delivery-attempts/],
      [{project: P, 'ack-deadline': '601'}, /--ack-deadline/],
      [{project: P, 'ingest-memory': '64Mi'}, /--ingest-memory/],
      [{project: P, 'ingest-memory': 'lots'}, /--ingest-memory/],
      [
        {project: P, 'ingest-cpu': '0.333'},
        /--ingest-concurrency 16 needs --ingest-cpu of at least 1/,
      ],
      [
        {project: P, 'manage-memory': '8Gi'},
        /--manage-memory 8Gi does not fit --manage-cpu 1/,
      ],
      [{project: P, 'ingest-timeout': '3601'}, /--ingest-timeout/],
      [
        {project: P, 'push-service-account': 'x'},
        /--push-service-account must be a service account id/,
      ],
      [
        {project: P, 'push-service-account': 'pittgoogle-ingest'},
        /four different accounts/,
      ],
      [
        {project: P, 'explore-service-account': 'pittgoogle-manage'},
        /four different accounts/,
      ],
      [
        {project: P, 'explore-function': 'pittgoogle-ingest'},
        /--explore-function must differ/,
      ],
      [
        {project: P, 'explore-invokers': 'everyone'},
        /--explore-invokers entries must be IAM members/,
      ],
      [{project: P, 'explore-memory': '64Mi'}, /--explore-memory/],
      [
        {project: P, 'dead-letter-topic': 'goog-dlq'},
        /--dead-letter-topic must not start with "goog"/,
      ],
      [
        {project: P, 'auth-allowed-emails': 'alice@example.org,not-an-email'},
        /--auth-allowed-emails must be an email address, got "not-an-email"/,
      ],
      [
        {project: P, 'manage-invokers': 'alice@example.org'},
        /--manage-invokers entries must be IAM members/,
      ],
      [
        {project: P, 'keep-cutouts': 'maybe'},
        /--keep-cutouts must be true or false/,
      ],
      [{project: P, cutouts: 'sometimes'}, /--cutouts must be one of/],
      [{project: P, cutouts: 'drop', 'keep-cutouts': 'true'}, /give only one/],
      [
        {project: P, 'retry-min-backoff': '700'},
        /--retry-min-backoff must be an integer in \[0, 600\]/,
      ],
      [
        {project: P, 'retry-min-backoff': '60', 'retry-max-backoff': '30'},
        /must not exceed --retry-max-backoff/,
      ],
      [{project: P, 'cutouts-collection': 'alerts'}, /must differ/],
      [{project: P, 'log-level': 'loud'}, /--log-level/],
      [{project: P, 'schema-source': '../../etc'}, /--schema-source/],
      [{project: P, 'alerts-collection': 'a/b'}, /--alerts-collection/],
      [{project: P, 'ingest-function': 'Ingest'}, /--ingest-function/],
      [{project: P, 'project-number': '12ab'}, /--project-number/],
      [{project: P, 'firestore-location': 'moon'}, /--firestore-location/],
    ];
    for (const [opts, message] of cases) {
      assert.throws(
        () => parseDeployConfig(opts),
        (e: AlertError) => e.code === 'bad-config' && message.test(e.message),
        `${JSON.stringify(opts)} → ${message}`,
      );
    }
  });
});

describe('teardown plan', () => {
  it('deletes push subscriptions, functions, dead-letter resources, bindings and accounts; the database only on request', () => {
    const steps = buildTeardownPlan(sample(), {deleteFirestore: false});
    const [list] = find(steps, 'pubsub', 'subscriptions', 'list');
    assert.equal(list.capture, 'PUSH_SUBSCRIPTIONS');
    assert.equal(
      flag(list, 'filter'),
      `pushConfig.oidcToken.serviceAccountEmail=${SA('pittgoogle-push')}`,
    );
    const [each] = gcloudSteps(steps).filter(
      s => s.forEach === 'PUSH_SUBSCRIPTIONS',
    );
    assert.deepEqual(each.argv.slice(0, 4), [
      'pubsub',
      'subscriptions',
      'delete',
      '${ITEM}',
    ]);
    assert.deepEqual(
      find(steps, 'functions', 'delete')
        .map(s => s.argv[2])
        .sort(),
      ['explore', 'pittgoogle-ingest', 'pittgoogle-manage'],
    );
    assert.deepEqual(
      find(steps, 'pubsub', 'topics', 'delete').map(s => s.argv[3]),
      ['pittgoogle-dead-letter'],
    );
    assert.deepEqual(
      find(steps, 'iam', 'service-accounts', 'delete')
        .map(s => s.argv[3])
        .sort(),
      [
        SA('pittgoogle-explore'),
        SA('pittgoogle-ingest'),
        SA('pittgoogle-manage'),
        SA('pittgoogle-push'),
      ],
    );
    assert.deepEqual(
      find(steps, 'projects', 'remove-iam-policy-binding')
        .map(s => `${flag(s, 'member')} ${flag(s, 'role')}`)
        .filter(m => m.includes('explore')),
      [`serviceAccount:${SA('pittgoogle-explore')} roles/datastore.viewer`],
    );
    assert.equal(
      find(steps, 'projects', 'remove-iam-policy-binding').length,
      4,
    );
    assert.ok(
      steps.filter(s => !s.capture).every(s => s.ignoreNotFound),
      'idempotent: gone is fine',
    );
    assert.equal(find(steps, 'firestore', 'databases', 'delete').length, 0);
    const all = buildTeardownPlan(sample(), {deleteFirestore: true});
    assert.equal(find(all, 'firestore', 'databases', 'delete').length, 1);
    // Every delete is non-interactive.
    for (const s of gcloudSteps(all).filter(s => s.argv.includes('delete')))
      assert.ok(s.argv.includes('--quiet'));
  });
});

describe('dry-run rendering', () => {
  it('quotes for a POSIX shell and keeps placeholders expandable', () => {
    assert.equal(shellQuote('--project=p-1'), '--project=p-1');
    assert.equal(shellQuote('--database=(default)'), "'--database=(default)'");
    assert.equal(shellQuote("it's"), "'it'\\''s'");
    assert.equal(
      shellQuote('a ${INGEST_URL} $HOME `x`'),
      '"a ${INGEST_URL} \\$HOME \\`x\\`"',
    );
    const text = renderPlan(deployPlan(), 'title', ['open: gcloud run x']);
    assert.match(text, /\n# open: gcloud run x\n$/);
    assert.match(
      text,
      /^PROJECT_NUMBER=\$\(gcloud projects describe my-alerts-123 '--format=value\(projectNumber\)'\)$/m,
    );
    assert.match(
      text,
      /^INGEST_URL=\$\(gcloud functions describe pittgoogle-ingest /m,
    );
    assert.match(
      text,
      /"--set-env-vars=\^\|\^GOOGLE_CLOUD_PROJECT=my-alerts-123\|.*\|INGEST_URL=\$\{INGEST_URL\}\|/,
    );
  });
});
