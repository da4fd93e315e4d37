/**
 * The stamp reference of test/fixtures/stamps/reference.json (astropy's
 * statistics, made by reference.py) and the stamps it describes.
 */

import {readFileSync} from 'node:fs';
import * as path from 'node:path';

import {realSamples} from './real-samples';

const FIXTURES = path.join(
  __dirname,
  '..',
  '..',
  '..',
  'test',
  'fixtures',
  'stamps',
);

export interface StampReference {
  shape: [number, number];
  bitpix: number;
  nanCount: number;
  min: number | null;
  max: number | null;
  median: number | null;
  pixels: [number, number, number | null][];
  zscale: [number, number] | null;
}

export interface Reference {
  stamps: (StampReference & {sample: string; kind: string})[];
  synthetic: (StampReference & {file: string})[];
}

export function loadReference(): Reference {
  return JSON.parse(
    readFileSync(path.join(FIXTURES, 'reference.json'), 'utf8'),
  ) as Reference;
}

export function syntheticBytes(file: string): Buffer {
  return readFileSync(path.join(FIXTURES, 'synthetic', file));
}

/** The stamp bytes of each real sample, keyed `${sample}/${kind}`. */
export async function realStamps(): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const s of await realSamples()) {
    for (const kind of ['science', 'template', 'difference'] as const) {
      const c = s.alert.cutouts[kind];
      if (c) out.set(`${s.file}/${kind}`, c.data);
    }
  }
  return out;
}
