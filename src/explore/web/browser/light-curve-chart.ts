/**
 * The light curve: magnitude (inverted axis: brighter up) against MJD, a
 * second axis in days ago, per band a shape and a colour; detections filled
 * with their error bars, upper limits hollow with an arrow towards fainter
 * magnitudes; the alert on show ringed.
 *
 * Chart library: uPlot (~50 KB minified, no dependencies, one ES module we
 * serve from node_modules; canvas drawing that evaluates no strings and adds no
 * style elements, so it runs under script-src 'self' /
 * style-src 'self'). It gives scales, both axes, grid, cursor and zoom; the
 * markers, error bars and limit arrows are drawn in its `draw` hook, which
 * is where uPlot expects custom marks. Observable Plot has error-bar marks
 * but needs d3 (several hundred KB as modules, or a bundler); Vega needs its
 * separate CSP-safe interpreter. What the hook drew is published on the
 * figure as `data-plotted` (JSON), read by the browser test.
 */

import type {Detection, LightCurve, UpperLimit} from './api.js';
import {bandMarker, bandStyle} from './bands.js';
import {h, num, str} from './dom.js';
import {agoText, fixed, magText, mjdOf} from './format.js';
import uPlot from './vendor/uplot.js';

export interface PlottedData {
  detections: Array<{
    mjd: number;
    band: string;
    mag: number;
    magErr: number | null;
  }>;
  upperLimits: Array<{mjd: number; band: string; limitMag: number}>;
}

interface Screen {
  x: number;
  y: number;
  label: string;
}

/** Drops entries without finite numbers (data from outside). */
export function cleanLightCurve(lc: unknown): LightCurve {
  const o = (lc ?? {}) as Record<string, unknown>;
  const dets = Array.isArray(o.detections) ? o.detections : [];
  const lims = Array.isArray(o.upperLimits) ? o.upperLimits : [];
  const detections: Detection[] = [];
  for (const d of dets as Array<Record<string, unknown>>) {
    const mjd = num(d?.mjd);
    const mag = num(d?.mag);
    if (mjd === null || mag === null) continue;
    detections.push({
      mjd,
      mag,
      band: str(d.band) ?? '?',
      magErr: num(d.magErr),
      sourceId: str(d.sourceId),
      origin: str(d.origin) ?? '',
    });
  }
  const upperLimits: UpperLimit[] = [];
  for (const l of lims as Array<Record<string, unknown>>) {
    const mjd = num(l?.mjd);
    const limitMag = num(l?.limitMag);
    if (mjd === null || limitMag === null) continue;
    upperLimits.push({mjd, limitMag, band: str(l.band) ?? '?'});
  }
  detections.sort((a, b) => a.mjd - b.mjd);
  upperLimits.sort((a, b) => a.mjd - b.mjd);
  return {detections, upperLimits};
}

function ranges(lc: LightCurve): {x: [number, number]; y: [number, number]} {
  const xs = [
    ...lc.detections.map(d => d.mjd),
    ...lc.upperLimits.map(l => l.mjd),
  ];
  const ys = [
    ...lc.detections.flatMap(d => [
      d.mag - (d.magErr ?? 0),
      d.mag + (d.magErr ?? 0),
    ]),
    ...lc.upperLimits.map(l => l.limitMag),
  ];
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const xpad = Math.max(2, (x1 - x0) * 0.04);
  const y0 = Math.min(...ys);
  const y1 = Math.max(...ys);
  const ypad = Math.max(0.4, (y1 - y0) * 0.1);
  // Room below the limits for their arrows.
  const arrowRoom = lc.upperLimits.length ? ypad * 1.5 : 0;
  return {x: [x0 - xpad, x1 + xpad], y: [y0 - ypad, y1 + ypad + arrowRoom]};
}

function mark(
  ctx: CanvasRenderingContext2D,
  path: Path2D,
  x: number,
  y: number,
  r: number,
  colour: string,
  hollow: boolean,
): void {
  ctx.save();
  ctx.translate(x, y);
  ctx.scale(r, r);
  ctx.lineWidth = (hollow ? 1.6 : 1) / (r / uPlot.pxRatio);
  ctx.fillStyle = hollow ? '#ffffff' : colour;
  ctx.strokeStyle = hollow ? colour : '#ffffff';
  ctx.fill(path);
  ctx.stroke(path);
  ctx.restore();
}

function line(
  ctx: CanvasRenderingContext2D,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): void {
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1, y1);
  ctx.stroke();
}

function label(
  kind: string,
  band: string,
  mjd: number,
  value: string,
  now: Date,
): string {
  return `${band} band ${kind} · MJD ${mjd.toFixed(4)} (${agoText(mjd, now)}) · ${value}`;
}

/**
 * Draws `lc` into `container` (already in the document, so that it has a
 * width); returns the figure element holding chart, legend and readout.
 */
export function mountLightCurve(
  container: HTMLElement,
  lc: LightCurve,
  opts: {now: Date; highlight?: string | null; caption: string},
): HTMLElement {
  const figure = h('figure', {class: 'light-curve'});
  const chartBox = h('div', {class: 'chart', attrs: {role: 'img'}});
  const readout = h(
    'p',
    {class: 'chart-readout'},
    'Point at (or tap) a mark to read it.',
  );
  figure.append(
    chartBox,
    legend(lc, opts.highlight ?? null),
    readout,
    h('figcaption', null, opts.caption),
  );
  container.append(figure);

  const bands = [
    ...new Set([...lc.detections, ...lc.upperLimits].map(p => p.band)),
  ];
  chartBox.setAttribute(
    'aria-label',
    `Light curve: ${lc.detections.length} detections and ${lc.upperLimits.length} upper limits in bands ${bands.join(', ') || 'none'}; the same data is in the table below.`,
  );
  if (!lc.detections.length && !lc.upperLimits.length) {
    chartBox.append(
      h('p', {class: 'empty'}, 'No photometry in this light curve.'),
    );
    figure.setAttribute(
      'data-plotted',
      JSON.stringify({detections: [], upperLimits: []}),
    );
    return figure;
  }

  const r = ranges(lc);
  const nowMjd = mjdOf(opts.now);
  // One x value per mark plus the padded ends (uPlot ranges x from the data;
  // zooming by dragging and a double-click back to all work as usual).
  const xs = [
    ...new Set([
      r.x[0],
      ...lc.detections.map(d => d.mjd),
      ...lc.upperLimits.map(l => l.mjd),
      r.x[1],
    ]),
  ].sort((a, b) => a - b);
  const ys = xs.map(() => null);
  const paths = new Map<string, Path2D>();
  const pathOf = (band: string) => {
    let p = paths.get(band);
    if (!p) paths.set(band, (p = new Path2D(bandStyle(band).path)));
    return p;
  };
  let screen: Screen[] = [];

  const draw = (u: uPlot) => {
    const ctx = u.ctx;
    const px = uPlot.pxRatio;
    const {left, top, width, height} = u.bbox;
    const xmin = u.scales.x.min ?? r.x[0];
    const xmax = u.scales.x.max ?? r.x[1];
    const inX = (v: number) => v >= xmin && v <= xmax;
    const plotted: PlottedData = {detections: [], upperLimits: []};
    const seen: Screen[] = [];
    const size = 5.5 * px;
    let ring: [number, number] | null = null;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    for (const l of lc.upperLimits) {
      if (!inX(l.mjd)) continue;
      const {colour} = bandStyle(l.band);
      const x = u.valToPos(l.mjd, 'x', true);
      const y = u.valToPos(l.limitMag, 'y', true);
      ctx.strokeStyle = colour;
      ctx.fillStyle = colour;
      ctx.lineWidth = 1.5 * px;
      line(ctx, x, y + size, x, y + 3.4 * size);
      ctx.beginPath();
      ctx.moveTo(x - 0.8 * size, y + 2.6 * size);
      ctx.lineTo(x + 0.8 * size, y + 2.6 * size);
      ctx.lineTo(x, y + 3.6 * size);
      ctx.closePath();
      ctx.fill();
      mark(ctx, pathOf(l.band), x, y, size, colour, true);
      plotted.upperLimits.push({
        mjd: l.mjd,
        band: l.band,
        limitMag: l.limitMag,
      });
      seen.push({
        x: x / px,
        y: y / px,
        label: label(
          'upper limit',
          l.band,
          l.mjd,
          `fainter than ${l.limitMag.toFixed(2)}`,
          opts.now,
        ),
      });
    }
    for (const d of lc.detections) {
      if (!inX(d.mjd)) continue;
      const {colour} = bandStyle(d.band);
      const x = u.valToPos(d.mjd, 'x', true);
      const y = u.valToPos(d.mag, 'y', true);
      if (d.magErr !== null && d.magErr > 0) {
        ctx.strokeStyle = colour;
        ctx.lineWidth = 1.5 * px;
        const y0 = u.valToPos(d.mag - d.magErr, 'y', true);
        const y1 = u.valToPos(d.mag + d.magErr, 'y', true);
        line(ctx, x, y0, x, y1);
        line(ctx, x - 0.6 * size, y0, x + 0.6 * size, y0);
        line(ctx, x - 0.6 * size, y1, x + 0.6 * size, y1);
      }
      mark(ctx, pathOf(d.band), x, y, size, colour, false);
      if (opts.highlight && d.sourceId === opts.highlight) ring = [x, y];
      plotted.detections.push({
        mjd: d.mjd,
        band: d.band,
        mag: d.mag,
        magErr: d.magErr,
      });
      seen.push({
        x: x / px,
        y: y / px,
        label: label(
          'detection',
          d.band,
          d.mjd,
          magText(d.mag, d.magErr),
          opts.now,
        ),
      });
    }
    ctx.restore();
    // The ring of this alert is drawn unclipped (it may sit at an edge).
    if (ring) {
      ctx.strokeStyle = '#000000';
      ctx.lineWidth = 2 * px;
      ctx.beginPath();
      ctx.arc(ring[0], ring[1], 2.1 * size, 0, 2 * Math.PI);
      ctx.stroke();
    }
    // Screen positions relative to the plotting area, in CSS pixels.
    screen = seen.map(s => ({...s, x: s.x - left / px, y: s.y - top / px}));
    figure.setAttribute('data-plotted', JSON.stringify(plotted));
  };

  const onCursor = (u: uPlot) => {
    const {left, top} = u.cursor;
    if (left === undefined || top === undefined || left < 0) return;
    let best: Screen | null = null;
    let bestD = 20 * 20;
    for (const s of screen) {
      const d = (s.x - left) ** 2 + (s.y - top) ** 2;
      if (d < bestD) [best, bestD] = [s, d];
    }
    if (best) readout.textContent = best.label;
  };

  const heightFor = (w: number) => (w < 600 ? 260 : 340);
  const width = Math.max(280, chartBox.clientWidth);
  const font = '12px system-ui, sans-serif';
  const axis = {
    stroke: '#222222',
    font,
    labelFont: font,
    grid: {stroke: '#e3e3e3', width: 1},
    ticks: {stroke: '#bbbbbb', width: 1},
  };
  const chart = new uPlot(
    {
      width,
      height: heightFor(width),
      legend: {show: false},
      cursor: {points: {show: false}, drag: {x: true, y: false}},
      scales: {
        x: {time: false},
        y: {auto: false, range: r.y, dir: -1},
      },
      axes: [
        {
          ...axis,
          scale: 'x',
          side: 2,
          label: 'MJD',
          values: (_u, splits) => tickText(splits, v => v),
        },
        {
          ...axis,
          scale: 'y',
          side: 3,
          label: 'magnitude',
          values: (_u, splits) => splits.map(v => fixed(v, 1)),
        },
        {
          ...axis,
          scale: 'x',
          side: 0,
          label: 'days ago',
          space: 55,
          grid: {show: false},
          values: (_u, splits) => tickText(splits, v => nowMjd - v),
        },
      ],
      series: [
        {},
        {label: 'magnitude', paths: () => null, points: {show: false}},
      ],
      hooks: {draw: [draw], setCursor: [onCursor]},
    },
    [xs, ys] as unknown as uPlot.AlignedData,
    chartBox,
  );
  new ResizeObserver(() => {
    const w = Math.max(280, chartBox.clientWidth);
    if (w !== chart.width) chart.setSize({width: w, height: heightFor(w)});
  }).observe(chartBox);
  return figure;
}

/** Tick labels with as many decimals as their spacing needs (no repeated labels). */
function tickText(splits: number[], f: (v: number) => number): string[] {
  const step = splits.length > 1 ? Math.abs(splits[1] - splits[0]) : 1;
  const digits = step >= 1 ? 0 : step >= 0.1 ? 1 : step >= 0.01 ? 2 : 3;
  return splits.map(v => fixed(f(v), digits));
}

function legend(lc: LightCurve, highlight: string | null): HTMLElement {
  const ul = h('ul', {class: 'chart-legend', attrs: {'aria-label': 'Legend'}});
  const bands = [
    ...new Set([...lc.detections, ...lc.upperLimits].map(p => p.band)),
  ].sort();
  for (const b of bands) ul.append(h('li', null, bandMarker(b), ` ${b} band`));
  if (lc.upperLimits.length) {
    ul.append(
      h(
        'li',
        null,
        bandMarker(bands[0] ?? null, true),
        ' hollow, with ↓: upper limit (fainter than)',
      ),
    );
  }
  if (lc.detections.length) ul.append(h('li', null, 'bars: ±1σ'));
  if (highlight && lc.detections.some(d => d.sourceId === highlight)) {
    ul.append(h('li', null, '◯ ringed: this alert'));
  }
  return ul;
}
