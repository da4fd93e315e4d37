/**
 * `/o/{objectId}`: an object's light curve (every stored alert of it across
 * subscriptions plus the newest alert's history), the alerts, and links to
 * the broker portals.
 */

import {api, ObjectInfo} from './api.js';
import {bandMarker} from './bands.js';
import {brokersParagraph} from './alert-page.js';
import {h, link, num, str, text} from './dom.js';
import {agoText, fixed, magText} from './format.js';
import {errorBox, main, section, startPage, status} from './layout.js';
import {cleanLightCurve, mountLightCurve} from './light-curve-chart.js';
import {lightCurveTable} from './light-curve-table.js';
import {pages} from './routes.js';

export async function renderObjectPage(objectId = ''): Promise<void> {
  startPage(objectId, `Object ${objectId}`, []);
  status('Loading the object…');
  let obj: ObjectInfo;
  try {
    obj = await api.object(objectId);
  } catch (e) {
    status('');
    main().append(errorBox(e));
    return;
  }
  status('');
  const now = new Date();
  const survey = text(obj.survey).toLowerCase();
  const alerts = Array.isArray(obj.alerts) ? obj.alerts : [];
  main().append(
    h(
      'p',
      null,
      `${survey.toUpperCase()} object with ${alerts.length} stored alert${alerts.length === 1 ? '' : 's'}.`,
    ),
    brokersParagraph(survey, objectId),
  );
  const curve = section('Light curve', 'light-curve-heading');
  main().append(curve);
  const lc = cleanLightCurve(obj.lightCurve);
  mountLightCurve(curve, lc, {
    now,
    caption: `${objectId}: every stored alert and the newest alert's history.`,
  });
  curve.append(lightCurveTable(lc, now));

  const body = h('tbody');
  for (const a of alerts) {
    const sub = text(a.subscription);
    const sourceId = text(a.sourceId);
    const band = str(a.band);
    const mjd = num(a.mjd);
    body.append(
      h(
        'tr',
        null,
        h(
          'th',
          {attrs: {scope: 'row'}},
          link(pages.alert(sub, sourceId), null, sourceId),
        ),
        h('td', null, link(pages.alerts(sub), null, sub)),
        h('td', {class: 'num'}, fixed(mjd, 5)),
        h('td', null, agoText(mjd, now)),
        h('td', {class: 'band'}, bandMarker(band), ` ${band ?? '—'}`),
        h('td', {class: 'num'}, magText(num(a.mag), num(a.magErr))),
      ),
    );
  }
  main().append(
    section(
      'Stored alerts',
      'alerts-heading',
      h(
        'div',
        {class: 'table-scroll'},
        h(
          'table',
          {class: 'data'},
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ...[
                'Alert',
                'Subscription',
                'MJD',
                'When',
                'Band',
                'Magnitude',
              ].map(t => h('th', {attrs: {scope: 'col'}}, t)),
            ),
          ),
          body,
        ),
      ),
    ),
  );
}
