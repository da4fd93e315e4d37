/** `/`: the subscriptions, their filters in words, counts and newest alert. */

import {api} from './api.js';
import {h, link, num, str, text} from './dom.js';
import {isoText} from './format.js';
import {asCards, errorBox, main, startPage, status} from './layout.js';
import {pages} from './routes.js';

export async function renderSubscriptionsPage(): Promise<void> {
  startPage('Subscriptions', 'Subscriptions', []);
  status('Loading subscriptions…');
  let subs;
  try {
    subs = (await api.subscriptions()).subscriptions;
  } catch (e) {
    status('');
    main().append(errorBox(e));
    return;
  }
  if (!Array.isArray(subs) || !subs.length) {
    status(
      'No subscriptions yet: create one with the manage API (PUT /subscriptions/NAME).',
    );
    return;
  }
  status(`${subs.length} subscription${subs.length === 1 ? '' : 's'}.`);
  const body = h('tbody');
  for (const s of subs) {
    const name = str(s.name) ?? '';
    const counts = (s.counts ?? {}) as Record<string, unknown>;
    const quarantined = num(counts.quarantined);
    body.append(
      h(
        'tr',
        null,
        h('th', {attrs: {scope: 'row'}}, link(pages.alerts(name), null, name)),
        h('td', {class: 'id'}, text(s.topic)),
        h(
          'td',
          null,
          h('p', {class: 'filter-text'}, text(s.filterText)),
          s.filter === null || s.filter === undefined
            ? null
            : h(
                'details',
                null,
                h('summary', null, 'filter JSON'),
                h('pre', null, JSON.stringify(s.filter, null, 2)),
              ),
        ),
        h('td', {class: 'num'}, text(num(counts.alerts))),
        h(
          'td',
          {class: 'num'},
          link(
            pages.quarantine(name),
            {
              attrs: {
                'aria-label': `${quarantined ?? 'unknown'} quarantined messages of ${name}`,
              },
            },
            text(quarantined),
          ),
        ),
        h('td', null, isoText(str(s.newestAlertTime))),
      ),
    );
  }
  main().append(
    h(
      'div',
      {class: 'table-scroll'},
      asCards(
        h(
          'table',
          {class: 'data'},
          h('caption', null, 'Subscriptions of this deployment'),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ...[
                'Name',
                'Topic',
                'Filter',
                'Alerts',
                'Quarantined',
                'Newest alert (UTC)',
              ].map(t => h('th', {attrs: {scope: 'col'}}, t)),
            ),
          ),
          body,
        ),
      ),
    ),
  );
}
