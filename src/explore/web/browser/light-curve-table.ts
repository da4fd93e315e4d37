/** The light curve as a table: the chart's data for every reader. */

import type {LightCurve} from './api.js';
import {bandMarker} from './bands.js';
import {h} from './dom.js';
import {agoText, magText} from './format.js';

/** The light curve as a table (the chart's data for every reader). */
export function lightCurveTable(
  lc: LightCurve,
  now: Date,
  highlight?: string | null,
): HTMLElement {
  const rows = [
    ...lc.detections.map(d => ({
      mjd: d.mjd,
      band: d.band,
      kind: `detection (${d.origin || '?'})`,
      value: magText(d.mag, d.magErr),
      limit: false,
      sourceId: d.sourceId,
    })),
    ...lc.upperLimits.map(l => ({
      mjd: l.mjd,
      band: l.band,
      kind: 'upper limit',
      value: `> ${l.limitMag.toFixed(3)}`,
      limit: true,
      sourceId: null,
    })),
  ].sort((a, b) => a.mjd - b.mjd);
  const table = h(
    'table',
    {class: 'data light-curve-table'},
    h(
      'caption',
      null,
      `${lc.detections.length} detections, ${lc.upperLimits.length} upper limits`,
    ),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ...['MJD', 'days ago', 'band', 'magnitude', 'kind', 'source id'].map(
          t => h('th', {attrs: {scope: 'col'}}, t),
        ),
      ),
    ),
  );
  const body = h('tbody');
  for (const row of rows) {
    body.append(
      h(
        'tr',
        {
          class:
            row.sourceId && row.sourceId === highlight ? 'current' : undefined,
        },
        h('td', {class: 'num'}, row.mjd.toFixed(5)),
        h('td', {class: 'num'}, agoText(row.mjd, now)),
        h('td', null, bandMarker(row.band, row.limit), ` ${row.band}`),
        h('td', {class: 'num'}, row.value),
        h('td', null, row.kind),
        h('td', {class: 'id'}, row.sourceId ?? '—'),
      ),
    );
  }
  table.append(body);
  return h(
    'details',
    {class: 'light-curve-data'},
    h('summary', null, 'Light curve data'),
    h('div', {class: 'table-scroll'}, table),
  );
}
