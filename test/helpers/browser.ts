/**
 * Headless Chromium for the page tests: Debian's `chromium` (no browser
 * download) driven by playwright-core. A missing browser is a clear failure
 * with its install command. Each page is watched for what must never
 * happen: console errors (CSP violations are reported there too), page
 * errors, failed requests, HTTP errors, and dialogs (an alert() would mean
 * that data ran as code).
 */

// playwright-core's types, and the functions run in the page, use the DOM's.
/// <reference lib="dom" />

import {existsSync, mkdirSync} from 'node:fs';
import * as path from 'node:path';

import {Browser, chromium, Page} from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is missing (${CHROMIUM_PATH}): install it with \`apt-get install -y chromium\` ` +
        '(Debian) or set CHROMIUM_PATH to a Chromium binary',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    // Root in a container has no user namespace for Chromium's sandbox.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

export interface PageProblems {
  consoleErrors: string[];
  pageErrors: string[];
  failedRequests: string[];
  httpErrors: string[];
  dialogs: string[];
  /** Forget everything seen so far. */
  clear(): void;
  /** Everything, one line each, for assertion messages. */
  all(): string[];
}

/** Records every problem of `page` (dialogs are dismissed and recorded). */
export function watchPage(page: Page): PageProblems {
  const p: PageProblems = {
    consoleErrors: [],
    pageErrors: [],
    failedRequests: [],
    httpErrors: [],
    dialogs: [],
    clear() {
      for (const list of [
        p.consoleErrors,
        p.pageErrors,
        p.failedRequests,
        p.httpErrors,
        p.dialogs,
      ]) {
        list.length = 0;
      }
    },
    all() {
      return [
        ...p.consoleErrors.map(m => `console error: ${m}`),
        ...p.pageErrors.map(m => `page error: ${m}`),
        ...p.failedRequests.map(m => `failed request: ${m}`),
        ...p.httpErrors.map(m => `HTTP error: ${m}`),
        ...p.dialogs.map(m => `dialog: ${m}`),
      ];
    },
  };
  page.on('console', m => {
    if (m.type() === 'error') p.consoleErrors.push(m.text());
  });
  page.on('pageerror', e => p.pageErrors.push(e.message));
  page.on('requestfailed', r => {
    p.failedRequests.push(
      `${r.method()} ${r.url()}: ${r.failure()?.errorText}`,
    );
  });
  page.on('response', r => {
    if (r.status() >= 400)
      p.httpErrors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  page.on('dialog', d => {
    p.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  return p;
}

/** Saves a full-page screenshot as DIR/NAME.png; returns the path. */
export async function screenshot(
  page: Page,
  dir: string,
  name: string,
): Promise<string> {
  mkdirSync(dir, {recursive: true});
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({path: file, fullPage: true});
  return file;
}
