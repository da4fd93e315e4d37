/**
 * The real alert packets (src/local/samples.ts: the shipped copies unless
 * ALERT_SAMPLES_DIR / ALERT_SCHEMAS_DIR say otherwise), decoded once per
 * test process with the project's own decoder.
 */

import {existsSync, readdirSync, readFileSync} from 'node:fs';
import * as path from 'node:path';

import {createDecoder} from '../../src/alert';
import type {Alert} from '../../src/alert';
import {samplesDir, schemasDir} from '../../src/local/samples';

export interface RealSample {
  /** File name, e.g. ztf-v4.02-ZTF17aaarzyp-2982177112815010003.avro */
  file: string;
  survey: 'ztf' | 'lsst';
  bytes: Buffer;
  alert: Alert;
}

function files(survey: 'ztf' | 'lsst'): string[] {
  const dir = path.join(samplesDir(), survey);
  return existsSync(dir)
    ? readdirSync(dir)
        .filter(f => f.endsWith('.avro'))
        .sort()
        .map(f => path.join(dir, f))
    : [];
}

let cache: Promise<RealSample[]> | undefined;

/** Every real packet of both surveys; throws when a survey has none. */
export function realSamples(): Promise<RealSample[]> {
  cache ??= (async () => {
    const decoder = createDecoder({
      schemaSource: path.join(schemasDir(), 'lsst'),
    });
    const out: RealSample[] = [];
    for (const survey of ['ztf', 'lsst'] as const) {
      const list = files(survey);
      if (!list.length) {
        throw new Error(`no ${survey} samples under ${samplesDir()}`);
      }
      for (const f of list) {
        const bytes = readFileSync(f);
        const alerts = await decoder.decode(bytes);
        if (alerts.length !== 1) {
          throw new Error(`${f}: ${alerts.length} alerts, expected 1`);
        }
        out.push({file: path.basename(f), survey, bytes, alert: alerts[0]});
      }
    }
    return out;
  })();
  return cache;
}
