/**
 * `/s/{name}`: a subscription's alerts, newest first, as a live table: on
 * the first page, new alerts are fetched every 5 s (alerts published since
 * the top row, with the same filters) and put on top without a reload;
 * pausable, and paused while the tab is hidden. Filters (band, magnitude
 * range, since/until on the publish time) and paging (opaque cursors) are
 * the API's, kept in the address so that a page can be bookmarked and the
 * browser's back button works.
 */

import {AlertSummary, api, Query} from './api.js';
import {bandMarker, KNOWN_BANDS} from './bands.js';
import {h, link, num, replace, str, text} from './dom.js';
import {
  fixed,
  isoText,
  isoToLocalInput,
  localInputToIso,
  magText,
  scoreText,
} from './format.js';
import {errorBox, main, startPage, status} from './layout.js';
import {pages} from './routes.js';

const POLL_MS = 5000;
const FILTERS = [
  'band',
  'magMin',
  'magMax',
  'since',
  'until',
  'limit',
] as const;
const PAGE_SIZES = ['25', '50', '100', '200'];

interface HistoryState {
  back: string[];
}

function urlQuery(): URLSearchParams {
  return new URLSearchParams(location.search);
}

function filtersOf(q: URLSearchParams): Query {
  const f: Query = {};
  for (const k of FILTERS) f[k] = q.get(k);
  f.limit ??= '50';
  return f;
}

export async function renderAlertsPage(
  name: string | undefined,
): Promise<void> {
  name ??= '';
  startPage(name, `Alerts of ${name}`, []);
  main().append(
    h(
      'p',
      null,
      link(pages.quarantine(name), null, 'Quarantined messages'),
      ' of this subscription.',
    ),
    filterForm(),
  );
  const live = new LiveTable(name);
  main().append(live.controls, live.region);
  addEventListener('popstate', () => void live.load());
  document.addEventListener('visibilitychange', () => void live.poll());
  await live.load();
  setInterval(() => void live.poll(), POLL_MS);
}

function field(label: string, input: HTMLElement): HTMLElement {
  return h('label', {class: 'field'}, h('span', null, label), input);
}

function filterForm(): HTMLFormElement {
  const q = urlQuery();
  const band = h(
    'select',
    {attrs: {name: 'band'}},
    h('option', {attrs: {value: ''}}, 'any'),
  );
  for (const b of KNOWN_BANDS) band.append(h('option', {attrs: {value: b}}, b));
  band.value = q.get('band') ?? '';
  const number = (n: string) => {
    const i = h('input', {
      attrs: {name: n, type: 'number', step: 'any', inputmode: 'decimal'},
    });
    i.value = q.get(n) ?? '';
    return i;
  };
  const time = (n: string) => {
    const i = h('input', {attrs: {name: n, type: 'datetime-local', step: '1'}});
    i.value = isoToLocalInput(q.get(n));
    return i;
  };
  const limit = h('select', {attrs: {name: 'limit'}});
  for (const s of PAGE_SIZES) limit.append(h('option', {attrs: {value: s}}, s));
  limit.value = q.get('limit') ?? '50';
  const form = h(
    'form',
    {class: 'filters', attrs: {method: 'get', 'aria-label': 'Filters'}},
    h(
      'fieldset',
      null,
      h('legend', null, 'Filters'),
      field('Band', band),
      field('Magnitude from', number('magMin')),
      field('to', number('magMax')),
      field('Published since (local time)', time('since')),
      field('until', time('until')),
      field('Rows per page', limit),
      h(
        'div',
        {class: 'buttons'},
        h('button', {attrs: {type: 'submit'}}, 'Apply'),
        h('button', {attrs: {type: 'reset'}}, 'Clear'),
      ),
    ),
  );
  const apply = () => {
    const data = new FormData(form);
    const next = new URLSearchParams();
    for (const k of FILTERS) {
      let v = String(data.get(k) ?? '').trim();
      if (k === 'since' || k === 'until') v = localInputToIso(v) ?? '';
      if (v && !(k === 'limit' && v === '50')) next.set(k, v);
    }
    const search = next.toString();
    history.pushState(
      {back: []} satisfies HistoryState,
      '',
      search ? `?${search}` : location.pathname,
    );
    dispatchEvent(new PopStateEvent('popstate'));
  };
  form.addEventListener('submit', e => {
    e.preventDefault();
    apply();
  });
  form.addEventListener('reset', () => {
    setTimeout(apply, 0);
  });
  return form;
}

class LiveTable {
  readonly controls: HTMLElement;
  readonly region = h('div', {class: 'alerts-region'});
  private readonly pause = h(
    'button',
    {attrs: {type: 'button', 'aria-pressed': 'false'}},
    'Pause live updates',
  );
  private readonly liveStatus = h('p', {
    class: 'live-status',
    attrs: {role: 'status'},
  });
  private rows: AlertSummary[] = [];
  private known = new Set<string>();
  private body: HTMLTableSectionElement | null = null;
  private scoreKeys: string[] = [];
  private paused = false;
  private polling = false;
  private generation = 0;
  private newCount = 0;

  constructor(private readonly name: string) {
    this.pause.addEventListener('click', () => {
      this.paused = !this.paused;
      this.pause.setAttribute('aria-pressed', String(this.paused));
      this.pause.textContent = this.paused
        ? 'Resume live updates'
        : 'Pause live updates';
      this.describe();
      if (!this.paused) void this.poll();
    });
    this.controls = h(
      'div',
      {class: 'live-controls'},
      this.pause,
      this.liveStatus,
    );
  }

  private get firstPage(): boolean {
    return !urlQuery().get('cursor');
  }

  private describe(checked?: Date): void {
    const f = filtersOf(urlQuery());
    let t: string;
    if (!this.firstPage) t = 'Live updates show on the first page only.';
    else if (f.until) t = 'Live updates are off while "until" is set.';
    else if (this.paused) t = 'Live updates paused.';
    else
      t = `Live: checking every ${POLL_MS / 1000} s${checked ? `, last at ${checked.toLocaleTimeString()}` : ''}; ${this.newCount} new since this page loaded.`;
    this.liveStatus.textContent = t;
  }

  async load(): Promise<void> {
    const generation = ++this.generation;
    const q = urlQuery();
    const query = {...filtersOf(q), cursor: q.get('cursor')};
    status('Loading alerts…');
    let res;
    try {
      res = await api.alerts(this.name, query);
    } catch (e) {
      if (generation !== this.generation) return;
      status('');
      replace(this.region, errorBox(e));
      this.rows = [];
      this.body = null;
      return;
    }
    if (generation !== this.generation) return;
    const alerts = Array.isArray(res.alerts) ? res.alerts : [];
    this.rows = alerts;
    this.known = new Set(alerts.map(a => String(a.sourceId)));
    this.newCount = 0;
    this.scoreKeys = scoreKeysOf(alerts);
    status(
      `${alerts.length} alert${alerts.length === 1 ? '' : 's'} on this page${res.next ? '; older ones on the next' : ''}.`,
    );
    const table = this.table();
    replace(
      this.region,
      h('div', {class: 'table-scroll'}, table),
      this.pager(str(res.next)),
    );
    this.describe();
  }

  private table(): HTMLTableElement {
    const head = [
      'Object',
      'Source id',
      'Time (UTC)',
      'MJD',
      'Band',
      'Magnitude',
      'RA (°)',
      'Dec (°)',
      ...this.scoreKeys,
    ];
    this.body = h('tbody');
    for (const a of this.rows) this.body.append(this.row(a, false));
    return h(
      'table',
      {class: 'data alerts', attrs: {id: 'alerts-table', tabindex: '-1'}},
      h(
        'caption',
        null,
        `Alerts of ${this.name}, newest first. Tab to a row's object, Enter opens the alert.`,
      ),
      h(
        'thead',
        null,
        h('tr', null, ...head.map(t => h('th', {attrs: {scope: 'col'}}, t))),
      ),
      this.body,
    );
  }

  private row(a: AlertSummary, isNew: boolean): HTMLTableRowElement {
    const sourceId = text(a.sourceId);
    const band = str(a.band);
    const href = pages.alert(this.name, sourceId);
    const scores = (a.scores ?? {}) as Record<string, unknown>;
    const tr = h(
      'tr',
      {class: isNew ? 'new' : undefined, attrs: {'data-source-id': sourceId}},
      h(
        'th',
        {attrs: {scope: 'row'}},
        link(
          href,
          {class: 'row-link', attrs: {title: text(a.objectId)}},
          text(a.objectId),
        ),
        isNew ? h('span', {class: 'badge'}, 'new') : null,
      ),
      h('td', {class: 'id'}, sourceId),
      h('td', {class: 'time'}, isoText(str(a.time))),
      h('td', {class: 'num'}, fixed(num(a.mjd), 5)),
      h('td', {class: 'band'}, bandMarker(band), ` ${band ?? '—'}`),
      h('td', {class: 'num'}, magText(num(a.mag), num(a.magErr))),
      h('td', {class: 'num'}, fixed(num(a.ra), 5)),
      h('td', {class: 'num'}, fixed(num(a.dec), 5)),
      ...this.scoreKeys.map(k =>
        h(
          'td',
          {class: 'num'},
          scoreText(Object.hasOwn(scores, k) ? scores[k] : null),
        ),
      ),
    );
    // A click anywhere on the row opens the alert, as its link does.
    tr.addEventListener('click', e => {
      if (!(e.target instanceof Element && e.target.closest('a')))
        location.assign(href);
    });
    return tr;
  }

  private pager(next: string | null): HTMLElement {
    const state = (history.state ?? {back: []}) as HistoryState;
    const back = Array.isArray(state.back) ? state.back : [];
    const go = (cursor: string | null, stack: string[]) => {
      const q = urlQuery();
      if (cursor) q.set('cursor', cursor);
      else q.delete('cursor');
      const s = q.toString();
      history.pushState(
        {back: stack} satisfies HistoryState,
        '',
        s ? `?${s}` : location.pathname,
      );
      void this.load().then(() =>
        document.getElementById('alerts-table')?.focus(),
      );
    };
    const button = (label: string, enabled: boolean, onClick: () => void) => {
      const b = h(
        'button',
        {attrs: {type: 'button', disabled: !enabled}},
        label,
      );
      b.addEventListener('click', onClick);
      return b;
    };
    const cursor = urlQuery().get('cursor');
    return h(
      'nav',
      {class: 'pager', attrs: {'aria-label': 'Pages'}},
      button('Newest', cursor !== null, () => go(null, [])),
      button('← Newer', back.length > 0, () =>
        go(back[back.length - 1] || null, back.slice(0, -1)),
      ),
      button('Older →', next !== null, () => go(next, [...back, cursor ?? ''])),
    );
  }

  /** Fetches alerts newer than the top row and puts them on top. */
  async poll(): Promise<void> {
    const f = filtersOf(urlQuery());
    if (
      this.paused ||
      document.hidden ||
      !this.firstPage ||
      f.until ||
      !this.body ||
      this.polling
    )
      return;
    this.polling = true;
    const generation = this.generation;
    try {
      const top = str(this.rows[0]?.publishTime);
      const since =
        f.since && top
          ? Date.parse(f.since) > Date.parse(top)
            ? f.since
            : top
          : (top ?? f.since);
      const fresh: AlertSummary[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 5; page++) {
        const res = await api.alerts(this.name, {
          ...f,
          limit: '100',
          since,
          cursor,
        });
        const alerts = Array.isArray(res.alerts) ? res.alerts : [];
        fresh.push(...alerts.filter(a => !this.known.has(String(a.sourceId))));
        cursor = str(res.next);
        if (!cursor) break;
      }
      // Nothing is added while paused, even by a check that began before.
      if (generation !== this.generation || !this.body || this.paused) return;
      for (const a of fresh.reverse()) {
        this.known.add(String(a.sourceId));
        this.rows.unshift(a);
        this.body.prepend(this.row(a, true));
      }
      this.newCount += fresh.length;
      this.describe(new Date());
    } catch (e) {
      this.liveStatus.textContent = `Live update failed (${e instanceof Error ? e.message : String(e)}); trying again in ${POLL_MS / 1000} s.`;
    } finally {
      this.polling = false;
    }
  }
}

function scoreKeysOf(alerts: AlertSummary[]): string[] {
  const keys: string[] = [];
  for (const a of alerts) {
    const s = a.scores;
    if (s && typeof s === 'object')
      for (const k of Object.keys(s)) if (!keys.includes(k)) keys.push(k);
  }
  return keys;
}
