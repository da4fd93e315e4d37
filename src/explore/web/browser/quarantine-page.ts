/**
 * `/s/{name}/quarantine`: the messages the ingest function could not use,
 * newest first: why, when, size, SHA-256 and the message's attributes.
 * Everything in them came from outside and is shown as text only.
 */

import {api, QuarantineItem} from './api.js';
import {h, link, num, replace, str, text} from './dom.js';
import {bytesText, isoText} from './format.js';
import {asCards, errorBox, main, startPage, status} from './layout.js';
import {pages} from './routes.js';

export async function renderQuarantinePage(name = ''): Promise<void> {
  startPage('Quarantine', `Quarantine of ${name}`, [
    [name, pages.alerts(name)],
  ]);
  const region = h('div');
  main().append(
    h('p', null, link(pages.alerts(name), null, `Alerts of ${name}`)),
    region,
  );
  const cursors: Array<string | null> = [null];
  const load = async () => {
    status('Loading the quarantine…');
    let res: {quarantine: QuarantineItem[]; next: string | null};
    try {
      res = await api.quarantine(name, {
        limit: '50',
        cursor: cursors[cursors.length - 1],
      });
    } catch (e) {
      status('');
      replace(region, errorBox(e));
      return;
    }
    const items = Array.isArray(res.quarantine) ? res.quarantine : [];
    status(
      items.length
        ? `${items.length} quarantined message${items.length === 1 ? '' : 's'} on this page.`
        : 'Nothing quarantined.',
    );
    const body = h('tbody');
    for (const q of items) {
      body.append(
        h(
          'tr',
          null,
          h('td', null, isoText(str(q.time))),
          h('td', null, text(q.reason)),
          h('td', {class: 'message'}, text(q.message)),
          h('td', {class: 'id'}, text(q.messageId)),
          h('td', {class: 'num'}, bytesText(num(q.sizeBytes))),
          h('td', {class: 'id hash'}, text(q.sha256)),
          h('td', null, h('code', null, text(q.attributes))),
        ),
      );
    }
    const next = str(res.next);
    const older = h(
      'button',
      {attrs: {type: 'button', disabled: next === null}},
      'Older →',
    );
    older.addEventListener('click', () => {
      cursors.push(next);
      void load();
    });
    const newer = h(
      'button',
      {attrs: {type: 'button', disabled: cursors.length < 2}},
      '← Newer',
    );
    newer.addEventListener('click', () => {
      cursors.pop();
      void load();
    });
    replace(
      region,
      h(
        'div',
        {class: 'table-scroll'},
        asCards(
          h(
            'table',
            {class: 'data quarantine'},
            h('caption', null, `Quarantined messages of ${name}, newest first`),
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                ...[
                  'Time (UTC)',
                  'Reason',
                  'Message',
                  'Message id',
                  'Size',
                  'SHA-256',
                  'Attributes',
                ].map(t => h('th', {attrs: {scope: 'col'}}, t)),
              ),
            ),
            body,
          ),
        ),
      ),
      h('nav', {class: 'pager', attrs: {'aria-label': 'Pages'}}, newer, older),
    );
  };
  await load();
}
