/**
 * The explorer in a real browser (Debian's headless Chromium driven by
 * playwright-core) over the real stack: both emulators, the ingest, manage
 * and explore functions under the functions framework, the shipped real ZTF
 * packets replayed into ztf-loop, plus lite JSON alerts and a broken
 * message carrying hostile strings (markup, quotes, javascript: URLs, a
 * 1,000-character id) in the object id, the attributes and the stored
 * filter. Checks: the table rows are the stored alerts in order, live rows
 * arrive without a reload (and not while paused), filters and paging, the
 * keyboard, an alert page's chart draws exactly its light curve's
 * detections and limits, the three stamps load at FITS size × render
 * scale, hostile strings show as text and run nothing, and no page logs an
 * error or has a failed request. Screenshots go to
 * build/test-output/explorer-browser/ (UPDATE_DOC_SCREENSHOT=1 also writes
 * docs/explorer-alert.png).
 */

import {strict as assert} from 'node:assert';
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import {tmpdir} from 'node:os';
import * as path from 'node:path';
import {after, before, describe, it} from 'node:test';

import type {Firestore} from '@google-cloud/firestore';
import type {Browser, Page} from 'playwright-core';

import {createDecoder} from '../../src/alert';
import type {Filter} from '../../src/filter';
import {lightCurve} from '../../src/alert/light-curve';
import {readFits} from '../../src/cutouts/fits';
import {firestoreClient, pubsubClient} from '../../src/local/clients';
import {
  LocalStack,
  STACK_PROJECT,
  startLocalStack,
} from '../../src/local/stack';
import {
  launchChromium,
  PageProblems,
  screenshot,
  watchPage,
} from '../helpers/browser';
import {generateLiteJson} from '../helpers/lite-json';
import {waitFor} from '../helpers/wait';

/** Polls `cond` until it holds. */
const until = (what: string, cond: () => Promise<boolean>, timeoutMs: number) =>
  waitFor(what, async () => ((await cond()) ? true : undefined), timeoutMs);

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SAMPLES = path.join(ROOT, 'samples', 'ztf');
const LSST_SAMPLES = path.join(ROOT, 'samples', 'lsst');
const OUT = path.join(ROOT, 'build', 'test-output', 'explorer-browser');
const SUB = 'ztf-loop';
const LSST_SUB = 'lsst-alerts';

const XSS_ID =
  '<script>window.__pwned=1</script>"\'><img src=x onerror="window.__pwned=2">';
const LONG_ID = `javascript:window.__pwned=3;//${'A'.repeat(1000)}`;
const XSS_ATTRS = {
  '"><script>window.__pwned=4</script>': 'javascript:window.__pwned=5',
  note: '<img src=x onerror=window.__pwned=6>',
};
const FILTER: Filter = {
  all: [
    {field: 'objectId', op: 'ne', value: '<script>window.__pwned=7</script>'},
    {
      not: {
        field: 'attributes.x',
        op: 'eq',
        value: 'javascript:window.__pwned=8;\'"',
      },
    },
  ],
};

interface StoredRow {
  sourceId: string;
  objectId: string;
  band: string | null;
  mag: number | null;
  magErr: number | null;
  publishMicros: bigint;
  docId: string;
}

/** The stored alerts of SUB, newest first (publish time, then document id). */
async function storedAlerts(db: Firestore, sub = SUB): Promise<StoredRow[]> {
  const snap = await db
    .collection('subscriptions')
    .doc(sub)
    .collection('alerts')
    .get();
  const rows = snap.docs.map(d => {
    const t = d.get('publishTime') as {seconds: number; nanoseconds: number};
    return {
      sourceId: String(d.get('sourceId')),
      objectId: String(d.get('objectId')),
      band: (d.get('band') as string | null) ?? null,
      mag: (d.get('mag') as number | null) ?? null,
      magErr: (d.get('magErr') as number | null) ?? null,
      publishMicros:
        BigInt(t.seconds) * 1_000_000n +
        BigInt(Math.floor(t.nanoseconds / 1000)),
      docId: d.id,
    };
  });
  return rows.sort((a, b) =>
    a.publishMicros !== b.publishMicros
      ? a.publishMicros > b.publishMicros
        ? -1
        : 1
      : a.docId > b.docId
        ? -1
        : a.docId < b.docId
          ? 1
          : 0,
  );
}

/** What the alerts table shows: [sourceId, objectId text, band text, magnitude text]. */
async function tableRows(page: Page): Promise<string[][]> {
  return page.$$eval('#alerts-table tbody tr', trs =>
    trs.map(tr => [
      tr.getAttribute('data-source-id') ?? '',
      tr.querySelector('a.row-link')?.textContent ?? '',
      tr.querySelector('td.band')?.textContent?.trim() ?? '',
      tr.querySelectorAll('td.num')[1]?.textContent ?? '',
    ]),
  );
}

function expectedRow(r: StoredRow): string[] {
  const mag =
    r.mag === null
      ? '—'
      : r.magErr === null
        ? r.mag.toFixed(3)
        : `${r.mag.toFixed(3)} ± ${r.magErr.toFixed(3)}`;
  return [r.sourceId, r.objectId, r.band ?? '—', mag];
}

/** Nothing ran: no dialog, no global set by injected code, no element from data. */
async function assertInert(page: Page, problems: PageProblems): Promise<void> {
  assert.deepEqual(problems.dialogs, []);
  assert.equal(
    await page.evaluate(() => (window as {__pwned?: unknown}).__pwned),
    undefined,
  );
  assert.equal(
    await page.locator('img[src="x"], script:not([src])').count(),
    0,
  );
  const hrefs = await page.$$eval('a[href]', as =>
    as.map(a => (a as HTMLAnchorElement).href),
  );
  for (const href of hrefs) assert.match(href, /^https?:\/\//, href);
}

describe('explorer in headless Chromium over the real stack', () => {
  let stack: LocalStack;
  let db: Firestore;
  let browser: Browser;
  let base = '';
  let tmp = '';
  const publish = async (data: Buffer, attributes: Record<string, string>) => {
    const pubsub = pubsubClient({
      projectId: STACK_PROJECT,
      host: stack.pubsubHost,
    });
    try {
      await pubsub.topic(stack.topic).publishMessage({data, attributes});
    } finally {
      await pubsub.close();
    }
  };

  before(async () => {
    browser = await launchChromium();
    tmp = mkdtempSync(path.join(tmpdir(), 'explorer-browser-'));
    for (const dir of [SAMPLES, LSST_SAMPLES]) {
      for (const f of readdirSync(dir))
        copyFileSync(path.join(dir, f), path.join(tmp, f));
    }
    stack = await startLocalStack({
      samples: [tmp],
      filter: FILTER,
      loop: false,
      rate: 20,
    });
    base = stack.exploreUrl.replace(/\/$/, '');
    db = firestoreClient({projectId: STACK_PROJECT, host: stack.firestoreHost});
    await stack.replayDone;
    const hostile = [
      generateLiteJson({seed: 11, shape: 'new', objectId: XSS_ID}),
      generateLiteJson({seed: 12, shape: 'old', objectId: LONG_ID}),
    ];
    for (const p of hostile) await publish(p.bytes, XSS_ATTRS);
    await publish(
      Buffer.from('<script>window.__pwned=9</script> not an alert'),
      XSS_ATTRS,
    );
    const expected = readdirSync(SAMPLES).length + hostile.length;
    await until(
      `${expected} stored alerts`,
      async () => (await storedAlerts(db)).length === expected,
      60_000,
    );
    // The real LSST packets share one diaSourceId: one alert is stored.
    await until(
      'the LSST alert',
      async () => (await storedAlerts(db, LSST_SUB)).length === 1,
      60_000,
    );
    await until(
      'the quarantined message',
      async () =>
        (
          await db
            .collection('subscriptions')
            .doc(SUB)
            .collection('quarantine')
            .get()
        ).size === 1,
      30_000,
    );
  });

  after(async () => {
    await browser?.close();
    await db?.terminate();
    await stack?.stop();
    if (tmp) rmSync(tmp, {recursive: true, force: true});
  });

  for (const width of [1280, 390]) {
    it(`subscriptions and the live alerts table at ${width} px`, async () => {
      const page = await browser.newPage({viewport: {width, height: 900}});
      const problems = watchPage(page);
      await page.goto(`${base}/`);
      await page.locator('table.data tbody tr').first().waitFor();
      const subRow = page.locator('table.data tbody tr', {hasText: SUB});
      // The stored filter's hostile strings, shown as text.
      assert.ok(
        (await subRow.textContent())!.includes(
          '<script>window.__pwned=7</script>',
        ),
      );
      await assertInert(page, problems);
      await screenshot(page, OUT, `subscriptions-${width}`);

      await subRow.locator('a').first().click();
      await page.waitForURL(`${base}/s/${SUB}`);
      await page.locator('#alerts-table tbody tr').first().waitFor();
      const stored = await storedAlerts(db);
      assert.deepEqual(await tableRows(page), stored.map(expectedRow));
      assert.ok(await page.getByText(XSS_ID, {exact: true}).isVisible());
      await assertInert(page, problems);
      await screenshot(page, OUT, `alerts-${width}`);
      assert.deepEqual(problems.all(), []);
      await page.close();
    });
  }

  it('puts new alerts on top without a reload, and none while paused', async () => {
    const page = await browser.newPage({viewport: {width: 1280, height: 900}});
    const problems = watchPage(page);
    await page.goto(`${base}/s/${SUB}`);
    await page.locator('#alerts-table tbody tr').first().waitFor();
    await page.evaluate(
      () => ((window as {__sameDocument?: boolean}).__sameDocument = true),
    );
    const before = (await storedAlerts(db)).length;

    const fresh = generateLiteJson({seed: 21, shape: 'new'});
    await publish(fresh.bytes, {});
    const freshId = fresh.expected[0].sourceId;
    await page
      .locator(`#alerts-table tbody tr[data-source-id="${freshId}"]`)
      .waitFor({timeout: 30_000});
    const top = await tableRows(page);
    assert.equal(top[0][0], freshId);
    assert.equal(await page.locator('#alerts-table tr.new .badge').count(), 1);
    assert.equal(
      await page.evaluate(
        () => (window as {__sameDocument?: boolean}).__sameDocument,
      ),
      true,
    );

    await page.getByRole('button', {name: 'Pause live updates'}).click();
    const held = generateLiteJson({seed: 22, shape: 'new'});
    await publish(held.bytes, {});
    const heldId = held.expected[0].sourceId;
    await until(
      'the held alert stored',
      async () => (await storedAlerts(db)).length === before + 2,
      30_000,
    );
    await page.waitForTimeout(6_000); // longer than one poll interval
    assert.equal(
      await page.locator(`tr[data-source-id="${heldId}"]`).count(),
      0,
    );
    await page.getByRole('button', {name: 'Resume live updates'}).click();
    await page
      .locator(`tr[data-source-id="${heldId}"]`)
      .waitFor({timeout: 15_000});
    assert.deepEqual(
      await tableRows(page),
      (await storedAlerts(db)).map(expectedRow),
    );
    assert.deepEqual(problems.all(), []);
    await page.close();
  });

  it('filters by band and pages through every alert once, in order, by keyboard too', async () => {
    const page = await browser.newPage({viewport: {width: 1280, height: 900}});
    const problems = watchPage(page);
    const stored = await storedAlerts(db);
    await page.goto(`${base}/s/${SUB}`);
    await page.locator('#alerts-table tbody tr').first().waitFor();
    await page.getByLabel('Band').selectOption('r');
    await page.getByRole('button', {name: 'Apply'}).click();
    await page.waitForURL(/band=r/);
    await page.waitForFunction(() =>
      document
        .querySelector('#page-status')
        ?.textContent?.includes('on this page'),
    );
    assert.deepEqual(
      await tableRows(page),
      stored.filter(r => r.band === 'r').map(expectedRow),
    );

    await page.goto(`${base}/s/${SUB}?limit=3`);
    const seen: string[][] = [];
    for (;;) {
      await page.waitForFunction(() =>
        document
          .querySelector('#page-status')
          ?.textContent?.includes('on this page'),
      );
      seen.push(...(await tableRows(page)));
      const older = page.getByRole('button', {name: 'Older →'});
      if (await older.isDisabled()) break;
      await older.click();
    }
    assert.deepEqual(seen, stored.map(expectedRow));
    const lastPage = Math.floor((stored.length - 1) / 3) * 3;
    assert.ok(lastPage >= 3);
    await page.getByRole('button', {name: '← Newer'}).click();
    await page.waitForFunction(() =>
      document
        .querySelector('#page-status')
        ?.textContent?.includes('on this page'),
    );
    assert.deepEqual(
      await tableRows(page),
      // The page before the last one.
      stored.slice(lastPage - 3, lastPage).map(expectedRow),
    );

    // Keyboard: Tab goes from row to row (one stop each), Enter opens the alert.
    await page.goto(`${base}/s/${SUB}`);
    const links = page.locator('#alerts-table a.row-link');
    await links.first().waitFor();
    await links.nth(0).focus();
    await page.keyboard.press('Tab');
    assert.equal(
      await page.evaluate(() =>
        document.activeElement?.closest('tr')?.getAttribute('data-source-id'),
      ),
      stored[1].sourceId,
    );
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/s/${SUB}/a/${stored[1].sourceId}`);
    assert.deepEqual(problems.all(), []);
    await page.close();
  });

  for (const width of [1280, 390]) {
    it(`an alert page draws its light curve and its three stamps at ${width} px`, async () => {
      const file = readdirSync(SAMPLES).find(f => f.includes('v4.02'))!;
      const [alert] = await createDecoder().decode(
        readFileSync(path.join(SAMPLES, file)),
      );
      const page = await browser.newPage({viewport: {width, height: 900}});
      const problems = watchPage(page);
      await page.goto(`${base}/s/${SUB}/a/${alert.sourceId}`);
      const figure = page.locator('figure.light-curve[data-plotted]');
      await figure.waitFor();
      const plotted = JSON.parse((await figure.getAttribute('data-plotted'))!);

      // The API's light curve of the object, and the same from the packet itself.
      const api = (await (
        await fetch(`${base}/api/objects/${alert.objectId}`)
      ).json()) as {
        lightCurve: {
          detections: Array<Record<string, unknown>>;
          upperLimits: Array<Record<string, unknown>>;
        };
      };
      const {prv_candidates: prv, ...record} = alert.record as Record<
        string,
        unknown
      >;
      const own = lightCurve('ztf', record, {
        prv_candidates: prv as unknown[],
        fp_hists: (record.fp_hists as unknown[]) ?? null,
      });
      const byMjd = <T extends {mjd: unknown}>(xs: T[]) =>
        [...xs].sort((a, b) => Number(a.mjd) - Number(b.mjd));
      const dets = (xs: Array<Record<string, unknown>>) =>
        byMjd(xs as Array<{mjd: number}>).map(d => {
          const r = d as unknown as Record<string, unknown>;
          return {
            mjd: r.mjd,
            band: r.band,
            mag: r.mag,
            magErr: r.magErr ?? null,
          };
        });
      const lims = (xs: Array<Record<string, unknown>>) =>
        byMjd(xs as Array<{mjd: number}>).map(l => {
          const r = l as unknown as Record<string, unknown>;
          return {mjd: r.mjd, band: r.band, limitMag: r.limitMag};
        });
      assert.ok(
        plotted.detections.length > 1 && plotted.upperLimits.length > 0,
      );
      assert.deepEqual(
        dets(plotted.detections),
        dets(api.lightCurve.detections),
      );
      assert.deepEqual(
        lims(plotted.upperLimits),
        lims(api.lightCurve.upperLimits),
      );
      assert.deepEqual(
        dets(plotted.detections),
        dets(own.detections as unknown as Array<Record<string, unknown>>),
      );
      assert.deepEqual(
        lims(plotted.upperLimits),
        lims(own.upperLimits as unknown as Array<Record<string, unknown>>),
      );

      for (const kind of ['science', 'template', 'difference'] as const) {
        const img = page.locator(`img[data-kind="${kind}"]`);
        await page.waitForFunction(k => {
          const i = document.querySelector(
            `img[data-kind="${k}"]`,
          ) as HTMLImageElement | null;
          return i?.complete && i.naturalWidth > 0;
        }, kind);
        const [w, h] = await img.evaluate(i => [
          (i as HTMLImageElement).naturalWidth,
          (i as HTMLImageElement).naturalHeight,
        ]);
        const fits = readFits(alert.cutouts[kind]!.data);
        const scale = w / fits.width;
        assert.ok(
          Number.isInteger(scale) && scale >= 1,
          `${kind}: ${w} px for ${fits.width}`,
        );
        assert.equal(h, fits.height * scale, kind);
        assert.ok(w >= 250, `${kind} shown at ${w} px`);
        assert.match(
          (await img.getAttribute('alt'))!,
          new RegExp(`${kind} stamp of ${alert.objectId}`),
        );
      }
      const brokers = await page.$$eval('.brokers a', as =>
        as.map(a => (a as HTMLAnchorElement).href),
      );
      assert.deepEqual(brokers, [
        `https://alerce.online/object/${alert.objectId}`,
        `https://fink-portal.org/${alert.objectId}`,
        `https://lasair-ztf.lsst.ac.uk/objects/${alert.objectId}/`,
      ]);
      await assertInert(page, problems);
      const shot = await screenshot(page, OUT, `alert-${width}`);
      if (width === 1280 && process.env.UPDATE_DOC_SCREENSHOT === '1') {
        await page.setViewportSize({width: 1280, height: 1350});
        await page.screenshot({
          path: path.join(ROOT, 'docs', 'explorer-alert.png'),
        });
      }
      assert.ok(shot);
      assert.deepEqual(problems.all(), []);
      await page.close();
    });
  }

  it('an LSST alert page: its light curve, no stamps stored, the LSST broker links', async () => {
    const [row] = await storedAlerts(db, LSST_SUB);
    const page = await browser.newPage({viewport: {width: 1280, height: 900}});
    const problems = watchPage(page);
    await page.goto(`${base}/s/${LSST_SUB}/a/${row.sourceId}`);
    const figure = page.locator('figure.light-curve[data-plotted]');
    await figure.waitFor();
    const plotted = JSON.parse((await figure.getAttribute('data-plotted'))!);
    const api = (await (
      await fetch(`${base}/api/objects/${row.objectId}`)
    ).json()) as {
      lightCurve: {detections: unknown[]; upperLimits: unknown[]};
    };
    assert.equal(plotted.detections.length, api.lightCurve.detections.length);
    assert.equal(plotted.upperLimits.length, api.lightCurve.upperLimits.length);
    assert.ok(plotted.detections.length >= 1);
    // The real LSST samples carry no cutouts: three placeholders, no request.
    assert.equal(await page.locator('figure.stamp.missing').count(), 3);
    const brokers = await page.$$eval('.brokers a', as =>
      as.map(a => (a as HTMLAnchorElement).href),
    );
    assert.deepEqual(brokers, [
      `https://lsst.alerce.online/object/${row.objectId}?survey=lsst`,
      `https://lsst.fink-portal.org/${row.objectId}`,
      `https://lasair.lsst.ac.uk/objects/${row.objectId}/`,
    ]);
    await assertInert(page, problems);
    await screenshot(page, OUT, 'lsst-alert-1280');
    assert.deepEqual(problems.all(), []);
    await page.close();
  });

  it('renders hostile object ids, attributes and quarantined messages as text', async () => {
    const page = await browser.newPage({viewport: {width: 1280, height: 900}});
    const problems = watchPage(page);
    const stored = await storedAlerts(db);
    // An id the read API refuses (LONG_ID: over 256 characters) still shows
    // its alert; its light curve and object page say why, as text.
    const curveOrError =
      'section[aria-labelledby="light-curve-heading"] :is(figure[data-plotted], .error)';
    for (const id of [XSS_ID, LONG_ID]) {
      const refused = id.length > 256;
      const row = stored.find(r => r.objectId === id)!;
      await page.goto(`${base}/s/${SUB}/a/${encodeURIComponent(row.sourceId)}`);
      await page.locator(curveOrError).waitFor();
      assert.equal(await page.locator('h1 a').textContent(), id);
      if (refused) {
        assert.match(
          (await page.locator('.error').textContent())!,
          /Bad request: objectId must be 1-256 characters/,
        );
      } else {
        assert.equal(
          await page.locator('figure.light-curve[data-plotted]').count(),
          1,
        );
      }
      // No broker links for an id of no survey's form.
      assert.equal(await page.locator('.brokers a').count(), 0);
      await page
        .locator('details.fields summary', {hasText: 'message attributes'})
        .click();
      assert.ok(
        await page
          .getByText('javascript:window.__pwned=5', {exact: true})
          .isVisible(),
      );
      await assertInert(page, problems);

      await page.goto(`${base}/o/${encodeURIComponent(id)}`);
      await page
        .locator(refused ? '.error' : 'figure.light-curve[data-plotted]')
        .waitFor();
      assert.equal(await page.locator('h1').textContent(), id);
      await assertInert(page, problems);
      if (refused) {
        // Chromium logs each 400 as a console error: exactly those, and nothing else.
        assert.ok(problems.httpErrors.length > 0);
        for (const e of problems.httpErrors)
          assert.match(e, /^400 GET .*\/api\/objects\//);
        assert.ok(
          problems.consoleErrors.every(m => /status of 400/.test(m)),
          problems.consoleErrors.join('\n'),
        );
        assert.deepEqual(
          [
            ...problems.pageErrors,
            ...problems.failedRequests,
            ...problems.dialogs,
          ],
          [],
        );
        problems.clear();
      }
      assert.deepEqual(problems.all(), []);
    }
    await screenshot(page, OUT, 'hostile-object-1280');
    await page.goto(`${base}/s/${SUB}/quarantine`);
    await page.locator('table.quarantine tbody tr').first().waitFor();
    assert.ok(
      (await page.locator('table.quarantine').textContent())!.includes(
        '<img src=x onerror=window.__pwned=6>',
      ),
    );
    await assertInert(page, problems);
    await screenshot(page, OUT, 'quarantine-1280');
    assert.deepEqual(problems.all(), []);

    // An address that is itself hostile: a 404 from the API, shown as text.
    await page.goto(
      `${base}/o/${encodeURIComponent('<script>window.__pwned=10</script>')}`,
    );
    await page.locator('.error').waitFor();
    assert.equal(
      await page.locator('h1').textContent(),
      '<script>window.__pwned=10</script>',
    );
    await assertInert(page, problems);
    assert.deepEqual(
      problems.consoleErrors.filter(m => !/404/.test(m)),
      [],
    );
    assert.deepEqual(problems.pageErrors, []);

    // A hostile filter in the address: the API's 400, shown as text.
    problems.clear();
    await page.goto(
      `${base}/s/${SUB}?band=${encodeURIComponent('"><script>window.__pwned=11</script>')}`,
    );
    await page.locator('.error').waitFor();
    assert.match(
      (await page.locator('.error').textContent())!,
      /^⚠?\s*Bad request: band must be one of/,
    );
    await assertInert(page, problems);
    assert.deepEqual(
      problems.httpErrors.map(e => e.split(' ')[0]),
      ['400'],
    );
    assert.deepEqual([...problems.pageErrors, ...problems.failedRequests], []);
    await page.close();
  });
});
