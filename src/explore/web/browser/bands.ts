/**
 * Band markers, readable without colour: each band has a shape as well as a
 * colour (and its letter is always written beside it in tables and the
 * legend). One geometry, drawn in the chart (canvas Path2D) and in HTML
 * (inline SVG): SVG path data in a box of radius ~1 around (0, 0).
 */

import {svg} from './dom.js';

export interface BandStyle {
  shape: string;
  path: string;
  colour: string;
}

function polygon(n: number, r: number, rotate: number): string {
  const pts: string[] = [];
  for (let k = 0; k < n; k++) {
    const a = rotate + (2 * Math.PI * k) / n;
    pts.push(`${(r * Math.cos(a)).toFixed(3)} ${(r * Math.sin(a)).toFixed(3)}`);
  }
  return `M${pts.join('L')}Z`;
}

const SHAPES: Record<string, string> = {
  circle: 'M1 0A1 1 0 1 1 -1 0A1 1 0 1 1 1 0Z',
  square: 'M-.85 -.85H.85V.85H-.85Z',
  diamond: 'M0 -1.2L1.05 0L0 1.2L-1.05 0Z',
  'triangle-up': polygon(3, 1.2, -Math.PI / 2),
  hexagon: polygon(6, 1.1, 0),
  cross: 'M-.35 -1.05H.35V-.35H1.05V.35H.35V1.05H-.35V.35H-1.05V-.35H-.35Z',
  star: polygon(4, 1.2, Math.PI / 4),
};

// Colours: distinct for the common colour-vision deficiencies as far as six
// can be (shape carries the band anyway).
const BANDS: Record<string, {shape: string; colour: string}> = {
  u: {shape: 'triangle-up', colour: '#6a3d9a'},
  g: {shape: 'circle', colour: '#1b7837'},
  r: {shape: 'square', colour: '#c0392b'},
  i: {shape: 'diamond', colour: '#b35806'},
  z: {shape: 'hexagon', colour: '#2166ac'},
  y: {shape: 'cross', colour: '#4d4d4d'},
};

const OTHER = {shape: 'star', colour: '#000000'};

export const KNOWN_BANDS = Object.keys(BANDS);

export function bandStyle(band: string | null): BandStyle {
  const b =
    (band !== null && Object.hasOwn(BANDS, band) ? BANDS[band] : null) ?? OTHER;
  return {shape: b.shape, path: SHAPES[b.shape], colour: b.colour};
}

/** A small inline SVG marker of a band (hollow: an upper limit). */
export function bandMarker(
  band: string | null,
  hollow = false,
  size = 12,
): SVGElement {
  const style = bandStyle(band);
  const s = svg('svg', {
    width: size,
    height: size,
    viewBox: '-1.5 -1.5 3 3',
    'aria-hidden': 'true',
    focusable: 'false',
    class: 'band-marker',
  });
  s.appendChild(
    svg('path', {
      d: style.path,
      fill: hollow ? 'none' : style.colour,
      stroke: style.colour,
      'stroke-width': hollow ? 0.35 : 0.15,
    }),
  );
  return s;
}
