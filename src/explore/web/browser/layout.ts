/** The parts every page shares: heading, breadcrumb, status and errors. */

import {ApiError} from './api.js';
import {Href, h, link, replace} from './dom.js';
import {pages} from './routes.js';

export function main(): HTMLElement {
  return document.getElementById('main')!;
}

/** Sets the page heading and the document title; clears the page. */
export function startPage(
  heading: string,
  title: string,
  crumbs: Array<[string, Href]>,
): void {
  document.title = `${title} · Alert explorer`;
  const crumb = document.getElementById('breadcrumb');
  if (crumb) {
    const items: Array<[string, Href | null]> = [
      ['Alert explorer', pages.subscriptions()],
      ...crumbs,
      [heading, null],
    ];
    replace(
      crumb,
      ...items.map(([t, href], k) =>
        h(
          'li',
          null,
          href && k < items.length - 1
            ? link(href, null, t)
            : h('span', {attrs: {'aria-current': 'page'}}, t),
        ),
      ),
    );
  }
  replace(
    main(),
    // A very long heading (an id from data) in a smaller type.
    h('h1', {class: heading.length > 60 ? 'long' : undefined}, heading),
    h('p', {attrs: {id: 'page-status', role: 'status'}}),
  );
}

/** The status line (role=status: read out politely). */
export function status(textContent: string): HTMLElement {
  let p = document.getElementById('page-status');
  if (!p) {
    p = h('p', {attrs: {id: 'page-status', role: 'status'}});
    main().append(p);
  }
  p.textContent = textContent;
  return p;
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    const what =
      e.status === 404
        ? 'Not found'
        : e.status === 400
          ? 'Bad request'
          : `Error ${e.status}`;
    return `${what}: ${e.detail}`;
  }
  return `Error: ${e instanceof Error ? e.message : String(e)}`;
}

/** An error box (role=alert) with the API's words, as text. */
export function errorBox(e: unknown): HTMLElement {
  return h(
    'div',
    {class: 'error', attrs: {role: 'alert'}},
    h('p', null, errorText(e)),
  );
}

export function section(
  heading: string,
  id: string,
  ...children: Array<Node | null>
): HTMLElement {
  const s = h(
    'section',
    {attrs: {'aria-labelledby': id}},
    h('h2', {attrs: {id}}, heading),
  );
  for (const c of children) if (c) s.append(c);
  return s;
}

/** A definition list of label → value (values are text or nodes). */
export function facts(entries: Array<[string, Node | string]>): HTMLElement {
  const dl = h('dl', {class: 'facts'});
  for (const [k, v] of entries)
    dl.append(h('div', null, h('dt', null, k), h('dd', null, v)));
  return dl;
}

/**
 * Marks a table to show as one card per row on a narrow screen: each cell
 * gets its column's heading (text of this code) as data-label, which the
 * stylesheet prints before it.
 */
export function asCards(table: HTMLTableElement): HTMLTableElement {
  const heads = [...table.querySelectorAll('thead th')].map(
    th => th.textContent ?? '',
  );
  table.classList.add('cards');
  for (const tr of table.querySelectorAll('tbody tr')) {
    [...tr.children].forEach((cell, k) =>
      cell.setAttribute('data-label', heads[k] ?? ''),
    );
  }
  return table;
}
