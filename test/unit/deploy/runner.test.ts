import {strict as assert} from 'node:assert';
import {spawnSync} from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {after, describe, it} from 'node:test';

import {createLogger} from '../../../src/log';
import {main} from '../../../src/deploy/main';
import {GcloudStep, Step} from '../../../src/deploy/steps';
import {
  CommandResult,
  HttpRequest,
  runPlan,
  RunnerDeps,
  spawnGcloud,
} from '../../../src/deploy/runner';

const ROOT = resolve(__dirname, '..', '..', '..', '..');
const MAIN = join(ROOT, 'build/src/deploy/main.js');
const P = 'my-alerts-123';
const URL = 'https://pittgoogle-ingest-abc123-uc.a.run.app';
const SUBS = [
  `projects/${P}/subscriptions/ztf-loop`,
  `projects/${P}/subscriptions/ztf-lite`,
];

/**
 * A stand-in for gcloud: a program that appends its argv (as JSON) to a log
 * and answers the few read commands. If the runner went through a shell,
 * arguments such as '--display-name=pittgoogle ingest function runtime' or
 * '--database=(default)' would arrive split or mangled.
 */
const dir = mkdtempSync(join(tmpdir(), 'fake-gcloud-'));
after(() => rmSync(dir, {recursive: true, force: true}));
const FAKE = join(dir, 'gcloud');
writeFileSync(
  FAKE,
  `#!${process.execPath}
const fs = require('node:fs');
const a = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_GCLOUD_LOG, JSON.stringify(a) + '\\n');
const j = a.join(' ');
const out = s => process.stdout.write(s + '\\n');
if (j.startsWith('projects describe')) out('123456789012');
else if (j.startsWith('functions describe')) out(${JSON.stringify(URL)});
else if (j.startsWith('pubsub subscriptions list')) out(${JSON.stringify(SUBS.join('\n'))});
else if (j.startsWith('auth print-access-token')) out('ya29.fake-token');
else if (process.env.FAKE_EXISTING && a.includes('create')) {
  process.stderr.write('ERROR: (gcloud) Resource already exists in the project\\n');
  process.exit(1);
}
`,
);
chmodSync(FAKE, 0o755);

function calls(log: string): string[][] {
  return existsSync(log)
    ? readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map(l => JSON.parse(l) as string[])
    : [];
}

function freshLog(): string {
  const log = join(dir, `log-${Math.random().toString(36).slice(2)}.jsonl`);
  process.env.FAKE_GCLOUD_LOG = log;
  return log;
}

function fakeDeps(
  answers: (argv: string[]) => CommandResult,
  http: (req: HttpRequest) => {status: number; text: string} = () => ({
    status: 200,
    text: '{}',
  }),
) {
  const gcloudCalls: string[][] = [];
  const httpCalls: HttpRequest[] = [];
  const sleeps: number[] = [];
  const lines: string[] = [];
  const deps: RunnerDeps = {
    gcloud: async argv => {
      gcloudCalls.push(argv);
      return answers(argv);
    },
    http: async req => {
      httpCalls.push(req);
      return http(req);
    },
    sleep: async ms => {
      sleeps.push(ms);
    },
    out: l => lines.push(l),
  };
  return {deps, gcloudCalls, httpCalls, sleeps, lines};
}

const ok = (stdout = ''): CommandResult => ({code: 0, stdout, stderr: ''});
const fail = (stderr: string): CommandResult => ({code: 1, stdout: '', stderr});
const g = (argv: string[], extra: Partial<GcloudStep> = {}): Step => ({
  kind: 'gcloud',
  description: argv.join(' '),
  argv,
  ...extra,
});

describe('runner', () => {
  it('tolerates only the failures a step allows, and stops at the first other one', async () => {
    const f = fakeDeps(argv =>
      argv[0] === 'exists'
        ? fail('ERROR: ... already exists')
        : argv[0] === 'gone'
          ? fail('NOT_FOUND: x')
          : argv[0] === 'boom'
            ? fail('ERROR: (gcloud.x) PERMISSION_DENIED: no')
            : ok(),
    );
    await runPlan(
      [
        g(['exists'], {ignoreAlreadyExists: true}),
        g(['gone'], {ignoreNotFound: true}),
      ],
      f.deps,
    );
    await assert.rejects(
      runPlan([g(['exists'], {ignoreNotFound: true})], f.deps),
      /step 1 failed.*already exists/,
    );
    await assert.rejects(
      runPlan(
        [g(['ok']), g(['boom'], {ignoreAlreadyExists: true}), g(['never'])],
        f.deps,
      ),
      (e: Error) =>
        /step 2 failed \(boom\): ERROR: \(gcloud.x\) PERMISSION_DENIED/.test(
          e.message,
        ),
    );
    assert.ok(!f.gcloudCalls.some(c => c[0] === 'never'));
  });

  it('retries steps that hit IAM propagation delays, then gives up', async () => {
    let n = 0;
    const f = fakeDeps(() =>
      ++n < 3
        ? fail('INVALID_ARGUMENT: Service account x does not exist.')
        : ok(),
    );
    await runPlan([g(['bind'], {retryNotFound: true})], f.deps);
    assert.equal(f.gcloudCalls.length, 3);
    assert.deepEqual(f.sleeps, [10_000, 20_000]);
    const never = fakeDeps(() => fail('does not exist'));
    await assert.rejects(
      runPlan([g(['bind'], {retryNotFound: true})], never.deps),
      /step 1 failed/,
    );
    assert.equal(never.gcloudCalls.length, 5);
  });

  it('substitutes validated captures, loops over captured lists, and refuses odd captured values', async () => {
    const f = fakeDeps(argv =>
      argv[0] === 'describe'
        ? ok(`${URL}\n`)
        : argv[0] === 'list'
          ? ok(SUBS.join('\n') + '\n')
          : ok(),
    );
    const vars = await runPlan(
      [
        g(['describe'], {capture: 'INGEST_URL'}),
        g(['deploy', '--set-env-vars=INGEST_URL=${INGEST_URL}']),
        g(['list'], {capture: 'PUSH_SUBSCRIPTIONS'}),
        g(['delete', '${ITEM}'], {forEach: 'PUSH_SUBSCRIPTIONS'}),
      ],
      f.deps,
    );
    assert.equal(vars.INGEST_URL, URL);
    assert.deepEqual(f.gcloudCalls.slice(1), [
      ['deploy', `--set-env-vars=INGEST_URL=${URL}`],
      ['list'],
      ['delete', SUBS[0]],
      ['delete', SUBS[1]],
    ]);
    const evil = fakeDeps(() => ok('https://x.run.app,LOG_LEVEL=DEBUG'));
    await assert.rejects(
      runPlan([g(['describe'], {capture: 'INGEST_URL'})], evil.deps),
      /unexpected INGEST_URL/,
    );
    const none = fakeDeps(() => ok(''));
    await runPlan(
      [
        g(['list'], {capture: 'PUSH_SUBSCRIPTIONS'}),
        g(['delete', '${ITEM}'], {forEach: 'PUSH_SUBSCRIPTIONS'}),
      ],
      none.deps,
    );
    assert.equal(none.gcloudCalls.length, 1, 'nothing to delete, nothing run');
  });

  it('makes REST calls with a gcloud token, the quota project and allowed statuses', async () => {
    const f = fakeDeps(
      () => ok('ya29.tok\n'),
      req =>
        req.method === 'POST' && req.url.endsWith('/rulesets')
          ? {
              status: 200,
              text: JSON.stringify({name: `projects/${P}/rulesets/abc-123`}),
            }
          : req.method === 'PATCH'
            ? {status: 404, text: 'not found'}
            : {status: 200, text: '{}'},
    );
    await runPlan(
      [
        {
          kind: 'http',
          description: 'ruleset',
          method: 'POST',
          url: `https://r.example/v1/projects/${P}/rulesets`,
          body: {a: 1},
          capture: 'RULESET_NAME',
          captureField: 'name',
        },
        {
          kind: 'http',
          description: 'update',
          method: 'PATCH',
          url: `https://r.example/v1/projects/${P}/releases/x`,
          body: {rulesetName: '${RULESET_NAME}'},
          okStatuses: [404],
        },
        {
          kind: 'http',
          description: 'create',
          method: 'POST',
          url: `https://r.example/v1/projects/${P}/releases`,
          body: {rulesetName: '${RULESET_NAME}'},
        },
      ],
      f.deps,
    );
    assert.deepEqual(
      f.gcloudCalls,
      [['auth', 'print-access-token']],
      'one token for all calls',
    );
    assert.equal(f.httpCalls[0].headers.Authorization, 'Bearer ya29.tok');
    assert.equal(f.httpCalls[0].headers['x-goog-user-project'], P);
    assert.equal(
      f.httpCalls[2].body,
      JSON.stringify({rulesetName: `projects/${P}/rulesets/abc-123`}),
    );
    const denied = fakeDeps(
      () => ok('tok'),
      () => ({status: 403, text: 'PERMISSION_DENIED'}),
    );
    await assert.rejects(
      runPlan(
        [
          {
            kind: 'http',
            description: 'x',
            method: 'PATCH',
            url: `https://r.example/v1/projects/${P}/x`,
            okStatuses: [404],
          },
        ],
        denied.deps,
      ),
      /HTTP 403: PERMISSION_DENIED/,
    );
  });
});

describe('deploy program', () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [MAIN, ...args], {
      encoding: 'utf8',
      env: {...process.env, PATH: `${dir}:${process.env.PATH}`, ...env},
    });

  it('--dry-run prints a valid shell script of every command and runs none', () => {
    const log = join(dir, 'dry.jsonl');
    const r = run(
      [
        'deploy',
        `--project=${P}`,
        '--auth-allowed-emails=a@x.org,b@x.org',
        '--dry-run',
      ],
      {FAKE_GCLOUD_LOG: log},
    );
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!existsSync(log), 'gcloud was not called');
    assert.match(
      r.stdout,
      /^gcloud functions deploy pittgoogle-ingest --gen2 --runtime=nodejs22 .*--entry-point=ingest --trigger-http --no-allow-unauthenticated /m,
    );
    assert.match(
      r.stdout,
      /^gcloud functions add-invoker-policy-binding pittgoogle-ingest .*--member=serviceAccount:pittgoogle-push@my-alerts-123\.iam\.gserviceaccount\.com/m,
    );
    assert.match(
      r.stdout,
      /^gcloud pubsub topics create pittgoogle-dead-letter /m,
    );
    // Retention: the TTL policies of alerts, cutouts and quarantine.
    for (const group of ['alerts', 'cutouts', 'quarantine']) {
      assert.match(
        r.stdout,
        new RegExp(
          `^gcloud firestore fields ttls update expireAt --collection-group=${group} --enable-ttl `,
          'm',
        ),
      );
    }
    const syntax = spawnSync('bash', ['-n'], {
      input: r.stdout,
      encoding: 'utf8',
    });
    assert.equal(syntax.status, 0, `bash -n: ${syntax.stderr}`);
    const t = run(['teardown', `--project=${P}`, '--dry-run'], {
      FAKE_GCLOUD_LOG: log,
    });
    assert.equal(t.status, 0, t.stderr);
    assert.match(
      t.stdout,
      /^for ITEM in \$PUSH_SUBSCRIPTIONS; do gcloud pubsub subscriptions delete "\$\{ITEM\}" /m,
    );
    assert.ok(!existsSync(log));
  });

  it('refuses invalid input before any command, with a clear message and exit code 2', () => {
    const log = join(dir, 'invalid.jsonl');
    for (const args of [
      ['deploy', '--project=Bad_Project'],
      ['deploy', `--project=${P}`, '--max-delivery-attempts=500'],
      ['deploy', `--project=${P}`, '--no-such-flag=1'],
      [
        'deploy',
        `--project=${P}`,
        '--region=us-central1 --allow-unauthenticated',
      ],
      ['launch', `--project=${P}`],
    ]) {
      const r = run(args, {FAKE_GCLOUD_LOG: log});
      assert.equal(r.status, 2, args.join(' '));
      assert.equal(r.stdout, '', 'no command printed');
      const entry = JSON.parse(r.stderr.trim().split('\n')[0]) as {
        severity: string;
        message: string;
      };
      assert.equal(entry.severity, 'ERROR');
      assert.ok(entry.message.length > 10);
    }
    assert.ok(!existsSync(log), 'gcloud was never called');
  });

  it('teardown refuses to run without the matching confirmation, then runs through gcloud without a shell', () => {
    const log = join(dir, 'teardown.jsonl');
    for (const extra of [[], ['--confirm-project=other-project-1']]) {
      const r = run(['teardown', `--project=${P}`, ...extra], {
        FAKE_GCLOUD_LOG: log,
      });
      assert.equal(r.status, 2);
      assert.match(
        r.stderr,
        /confirm by repeating the project id: --confirm-project=my-alerts-123/,
      );
      assert.ok(!existsSync(log), 'nothing ran');
    }
    const r = run(['teardown', `--project=${P}`, `--confirm-project=${P}`], {
      FAKE_GCLOUD_LOG: log,
    });
    assert.equal(r.status, 0, r.stderr);
    const c = calls(log);
    assert.deepEqual(c[0].slice(0, 3), ['pubsub', 'subscriptions', 'list']);
    assert.deepEqual(
      c
        .filter(a => a[2] === 'delete' && a[1] === 'subscriptions')
        .map(a => a[3]),
      [...SUBS, 'pittgoogle-dead-letter-keep'],
    );
    assert.ok(
      c.some(
        a =>
          a.join(' ') ===
          `functions delete pittgoogle-ingest --gen2 --region=us-central1 --project=${P} --quiet`,
      ),
    );
  });

  it('a real deploy runs the plan in order, substitutes captures, and a re-run over existing resources succeeds', async () => {
    for (const existing of [false, true]) {
      const log = freshLog();
      if (existing) process.env.FAKE_EXISTING = '1';
      else delete process.env.FAKE_EXISTING;
      const http: HttpRequest[] = [];
      const out: string[] = [];
      const code = await main(['deploy', `--project=${P}`], {
        root: ROOT,
        log: createLogger({sink: l => out.push(l)}),
        stdout: t => out.push(t),
        runner: {
          gcloud: spawnGcloud(ROOT, {showStderr: false, command: FAKE}),
          http: async req => {
            http.push(req);
            return req.url.endsWith('/rulesets')
              ? {
                  status: 200,
                  text: JSON.stringify({name: `projects/${P}/rulesets/r-1`}),
                }
              : {status: 200, text: '{}'};
          },
          sleep: async () => {},
          out: l => out.push(l),
        },
      });
      assert.equal(code, 0, out.join('\n'));
      const c = calls(log);
      const sa = c.find(a => a[2] === 'create' && a[3] === 'pittgoogle-ingest');
      assert.ok(
        sa?.includes('--display-name=pittgoogle ingest function runtime'),
        'one argument, spaces intact',
      );
      assert.ok(c.some(a => a.includes('--database=(default)')));
      assert.ok(
        c.some(a =>
          a.includes(
            '--member=serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com',
          ),
        ),
        'project number substituted',
      );
      const manage = c.find(
        a => a[1] === 'deploy' && a[2] === 'pittgoogle-manage',
      );
      assert.ok(
        manage?.some(
          a =>
            a.includes(`|INGEST_URL=${URL}|`) ||
            a.includes(`,INGEST_URL=${URL},`),
        ),
      );
      const order = c.map(a => a.slice(0, 3).join(' '));
      assert.ok(
        order.indexOf('functions describe pittgoogle-ingest') <
          order.indexOf('functions deploy pittgoogle-manage'),
      );
      assert.ok(!c.flat().some(a => a.includes('${')), 'no placeholder left');
      assert.ok(
        out.includes(
          `  gcloud run services proxy explore --region us-central1 --port 8080 --project ${P}`,
        ),
        'the deploy says how to open the explorer privately',
      );
      assert.ok(
        http.some(h =>
          h.body?.includes(`"rulesetName":"projects/${P}/rulesets/r-1"`),
        ),
      );
      assert.equal(
        out.filter(l => l.includes('already exists: kept as it is')).length,
        existing ? 17 : 0,
        'database, 4 accounts, topic, keeper and 10 composite indexes',
      );
    }
    delete process.env.FAKE_EXISTING;
  });
});
