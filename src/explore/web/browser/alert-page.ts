/**
 * `/s/{name}/a/{sourceId}`: one alert: its numbers, the light curve of its
 * object, the three stamps, links to the broker portals, and every field
 * of the record and the message attributes.
 */

import {AlertDetail, api} from './api.js';
import {bandMarker} from './bands.js';
import {brokerLinks} from './brokers.js';
import {h, link, num, str, text} from './dom.js';
import {agoText, fixed, isoText, magText, scoreText} from './format.js';
import {errorBox, facts, main, section, startPage, status} from './layout.js';
import {cleanLightCurve, mountLightCurve} from './light-curve-chart.js';
import {lightCurveTable} from './light-curve-table.js';
import {pages} from './routes.js';
import {stampsSection} from './stamps.js';

export async function renderAlertPage(name = '', sourceId = ''): Promise<void> {
  startPage(`Alert ${sourceId}`, `Alert ${sourceId}`, [
    [name, pages.alerts(name)],
  ]);
  status('Loading the alert…');
  let alert: AlertDetail;
  try {
    alert = (await api.alert(name, sourceId)).alert;
  } catch (e) {
    status('');
    main().append(errorBox(e));
    return;
  }
  const now = new Date();
  const objectId = text(alert.objectId);
  const survey = text(alert.survey);
  const heading = main().querySelector('h1')!;
  heading.classList.toggle('long', objectId.length > 60);
  heading.replaceChildren(
    link(pages.object(objectId), null, objectId),
    h(
      'span',
      {class: 'subtitle'},
      ` · ${survey.toUpperCase()} alert ${text(alert.sourceId)}`,
    ),
  );
  document.title = `${objectId} · alert ${text(alert.sourceId)} · Alert explorer`;
  status('');
  const band = str(alert.band);
  const mjd = num(alert.mjd);
  const scores = (alert.scores ?? {}) as Record<string, unknown>;
  main().append(
    facts([
      ['Time (UTC)', isoText(str(alert.time))],
      ['MJD', `${fixed(mjd, 5)} · ${agoText(mjd, now)}`],
      ['Band', h('span', null, bandMarker(band), ` ${band ?? '—'}`)],
      ['Magnitude', magText(num(alert.mag), num(alert.magErr))],
      [
        'RA, Dec (°)',
        `${fixed(num(alert.ra), 6)}, ${fixed(num(alert.dec), 6)}`,
      ],
      ...Object.entries(scores).map(([k, v]): [string, string] => [
        k,
        scoreText(v),
      ]),
      ['Published', isoText(str(alert.publishTime))],
      ['Stored', isoText(str(alert.ingestTime))],
      ['Subscription', link(pages.alerts(name), null, name)],
    ]),
    brokersParagraph(survey.toLowerCase(), objectId),
  );
  const stamps = section(
    'Stamps',
    'stamps-heading',
    stampsSection(
      name,
      text(alert.sourceId),
      objectId,
      Array.isArray(alert.cutouts) ? alert.cutouts.map(String) : [],
    ),
  );
  const curve = section('Light curve', 'light-curve-heading');
  main().append(stamps, curve, fieldsSection(alert));
  await lightCurveInto(curve, objectId, text(alert.sourceId), now);
}

async function lightCurveInto(
  curve: HTMLElement,
  objectId: string,
  sourceId: string,
  now: Date,
): Promise<void> {
  const waiting = h('p', {attrs: {role: 'status'}}, 'Loading the light curve…');
  curve.append(waiting);
  try {
    const obj = await api.object(objectId);
    waiting.remove();
    const lc = cleanLightCurve(obj.lightCurve);
    mountLightCurve(curve, lc, {
      now,
      highlight: sourceId,
      caption: `${objectId}: this alert's history and every stored alert of the object (ringed: this alert).`,
    });
    curve.append(lightCurveTable(lc, now, sourceId));
  } catch (e) {
    waiting.remove();
    curve.append(errorBox(e));
  }
}

export function brokersParagraph(
  survey: string,
  objectId: string,
): HTMLElement {
  const links = brokerLinks(survey, objectId);
  if (!links.length)
    return h(
      'p',
      {class: 'brokers'},
      'No broker portal links for this object id.',
    );
  const p = h('p', {class: 'brokers'}, 'On the brokers: ');
  links.forEach((l, k) => {
    if (k) p.append(' · ');
    p.append(link(l.href, null, l.broker));
  });
  return p;
}

/** The main record part first (ZTF candidate, LSST diaSource), then the rest. */
function fieldsSection(alert: AlertDetail): HTMLElement {
  const record = (alert.record ?? {}) as Record<string, unknown>;
  const mainKey = ['candidate', 'diaSource'].find(
    k => record[k] && typeof record[k] === 'object',
  );
  const top: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(record))
    if (k !== mainKey) top.push([k, v]);
  const parts: HTMLElement[] = [];
  if (mainKey) {
    parts.push(
      fieldsTable(
        mainKey,
        Object.entries(record[mainKey] as Record<string, unknown>),
      ),
    );
  }
  parts.push(fieldsTable('record', top));
  const attrs = Object.entries(
    (alert.attributes ?? {}) as Record<string, unknown>,
  );
  parts.push(fieldsTable('message attributes', attrs));
  const histories = (alert.histories ?? {}) as Record<string, unknown>;
  const hist = Object.entries(histories).map(([k, v]): [string, unknown] => [
    k,
    Array.isArray(v) ? `${v.length} entries` : v,
  ]);
  parts.push(fieldsTable('histories', hist));
  return section('Fields', 'fields-heading', ...parts);
}

function fieldsTable(
  title: string,
  entries: Array<[string, unknown]>,
): HTMLElement {
  const body = h('tbody');
  for (const [k, v] of entries) {
    const value =
      v !== null && typeof v === 'object' ? h('code', null, text(v)) : text(v);
    body.append(
      h('tr', null, h('th', {attrs: {scope: 'row'}}, k), h('td', null, value)),
    );
  }
  return h(
    'details',
    {
      class: 'fields',
      attrs: {open: title === 'candidate' || title === 'diaSource'},
    },
    h('summary', null, `${title} (${entries.length})`),
    h(
      'div',
      {class: 'table-scroll'},
      h(
        'table',
        {class: 'data kv'},
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', {attrs: {scope: 'col'}}, 'field'),
            h('th', {attrs: {scope: 'col'}}, 'value'),
          ),
        ),
        body,
      ),
    ),
  );
}
