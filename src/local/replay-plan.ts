/**
 * What the local stack replays, and to which topic: by default the real
 * packets shipped in samples/ first (ZTF to `ztf-loop`, LSST to
 * `lsst-alerts`), then generated ZTF-like packets; with `generatedOnly`
 * the generated packets alone; with explicit `samples` those files alone.
 * A packet goes to the LSST topic when it decodes as an LSST alert, to the
 * ZTF topic otherwise (a packet that does not decode is published there as
 * is, and quarantined by the ingest function).
 */

import {existsSync} from 'node:fs';
import * as path from 'node:path';

import {generatedPackets, Packet, packetsFromPaths} from './replay';
import {samplesDir} from './samples';

export interface ReplayPlan {
  /** For the ZTF topic, in publishing order. */
  ztf: Packet[];
  /** For the LSST topic. */
  lsst: Packet[];
  /** In words, for the start banner. */
  description: string;
}

export interface ReplayPlanOptions {
  /** Files or directories to replay instead of the default. */
  samples?: string[];
  /** Generated packets (not with `samples`). Default 20. */
  generate?: number;
  /** Only generated packets, no real samples. */
  generatedOnly?: boolean;
  /** LSST writer schemas (a directory), to recognize LSST packets. */
  schemaSource?: string;
  onWarning?: (message: string) => void;
}

function split(packets: Packet[]): {ztf: Packet[]; lsst: Packet[]} {
  return {
    ztf: packets.filter(p => p.survey !== 'lsst'),
    lsst: packets.filter(p => p.survey === 'lsst'),
  };
}

export async function planReplay(opts: ReplayPlanOptions): Promise<ReplayPlan> {
  const read = (paths: string[]) =>
    packetsFromPaths(paths, {
      schemaSource: opts.schemaSource,
      onWarning: opts.onWarning,
    });
  if (opts.samples?.length) {
    const {ztf, lsst} = split(await read(opts.samples));
    return {
      ztf,
      lsst,
      description: `${opts.samples.join(', ')} (${ztf.length} ZTF, ${lsst.length} LSST packets)`,
    };
  }
  const count = opts.generate ?? 20;
  const generated = generatedPackets(count);
  const generatedText = `${count} generated ZTF packets`;
  if (opts.generatedOnly) {
    return {ztf: generated, lsst: [], description: generatedText};
  }
  const dir = samplesDir();
  const dirs = ['ztf', 'lsst']
    .map(s => path.join(dir, s))
    .filter(d => existsSync(d));
  const real = split(dirs.length ? await read(dirs) : []);
  if (!real.ztf.length && !real.lsst.length) {
    opts.onWarning?.(
      `no real alert packets under ${dir}/{ztf,lsst}: replaying generated packets only`,
    );
  }
  return {
    ztf: [...real.ztf, ...generated],
    lsst: real.lsst,
    description: `the real packets of ${dir} (${real.ztf.length} ZTF, ${real.lsst.length} LSST), then ${generatedText}`,
  };
}
