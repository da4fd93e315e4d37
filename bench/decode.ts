/**
 * `npm run bench:decode`: full decode + normalize of real-size ZTF packets
 * (the shared samples when ALERT_SAMPLES_DIR is set, else generated ones),
 * against bare avsc decoding with a cached type, and with the schema parsed
 * per message. Prints a table, then one JSON line:
 * {"bench":"decode","alertsPerSec":…,"baselinePerSec":…,"ratio":…}
 */

import {readdirSync, readFileSync} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as avro from 'avsc';

import {createDecoder, TypeCache} from '../src/alert';
import {buildType} from '../src/alert/avro-types';
import {readOcfHeader, readVarint} from '../src/alert/avro-ocf';
import {generateZtfPacket} from '../src/local/generate';
import {median} from './lib/push-tools';

interface Packet {
  name: string;
  bytes: Buffer;
  schemaText: string;
  /** Offset of the first record (after the block's count and size). */
  recordStart: number;
}

function loadPackets(): {packets: Packet[]; source: string} {
  const dir = process.env.ALERT_SAMPLES_DIR;
  let raw: Array<{name: string; bytes: Buffer}>;
  let source: string;
  if (dir) {
    const ztf = path.join(dir, 'ztf');
    raw = readdirSync(ztf)
      .filter(f => f.endsWith('.avro'))
      .sort()
      .map(f => ({name: f, bytes: readFileSync(path.join(ztf, f))}));
    source = `shared samples (${ztf})`;
  } else {
    raw = [1, 2, 3, 4, 5, 6, 7, 8].map(seed => ({
      name: `generated seed ${seed}`,
      bytes: generateZtfPacket({seed}).bytes,
    }));
    source = 'generated ZTF-like packets (ALERT_SAMPLES_DIR not set)';
  }
  const packets = raw.map(({name, bytes}) => {
    const h = readOcfHeader(bytes);
    let pos = h.dataStart;
    [, pos] = readVarint(bytes, pos, 'block');
    [, pos] = readVarint(bytes, pos, 'block');
    return {
      name,
      bytes,
      schemaText: h.schemaText.toString('utf8'),
      recordStart: pos,
    };
  });
  return {packets, source};
}

/** Runs `fn` over the packets for `ms`; returns alerts per second. */
function rate(
  packets: Packet[],
  ms: number,
  fn: (p: Packet) => number,
): number {
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < end) {
    for (let i = 0; i < packets.length; i++) n += fn(packets[i]);
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

async function asyncRate(
  packets: Packet[],
  ms: number,
  decode: (b: Buffer) => Promise<unknown[]>,
): Promise<number> {
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < end) {
    for (let i = 0; i < packets.length; i++)
      n += (await decode(packets[i].bytes)).length;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

async function main(): Promise<void> {
  const {packets, source} = loadPackets();
  const avgBytes =
    packets.reduce((s, p) => s + p.bytes.length, 0) / packets.length;
  const typeCache = new TypeCache();
  const decoder = createDecoder({typeCache});
  // Bare avsc: the very same cached writer types (bigint longs), record read directly.
  const types = new Map<string, avro.Type>();
  for (const p of packets) types.set(p.schemaText, typeCache.get(p.schemaText));
  const bare = (p: Packet) => {
    types.get(p.schemaText)!.decode(p.bytes, p.recordStart);
    return 1;
  };
  const ours = (p: Packet) => decoder.tryDecodeSync(p.bytes)!.length;
  // Sanity: both read the same record.
  for (const p of packets) {
    const v = types.get(p.schemaText)!.decode(p.bytes, p.recordStart).value as {
      candid: bigint;
    };
    const [a] = decoder.tryDecodeSync(p.bytes)!;
    if (a.sourceId !== v.candid.toString())
      throw new Error(`mismatch on ${p.name}`);
  }
  const perMessage = (p: Packet) => {
    buildType(JSON.parse(p.schemaText)).decode(p.bytes, p.recordStart);
    return 1;
  };

  // Warm up every path.
  rate(packets, 800, bare);
  rate(packets, 800, ours);
  rate(packets, 300, perMessage);

  // Interleaved batches: the machine is shared (2 cores), so both paths
  // must see the same conditions; the ratio compares summed times.
  const totalMs = 14_000;
  const batch = Math.max(1, Math.round(200 / packets.length));
  let tBare = 0n;
  let tOurs = 0n;
  let nBare = 0;
  let nOurs = 0;
  const ratios: number[] = [];
  const stop = process.hrtime.bigint() + BigInt(totalMs) * 1_000_000n;
  let round = 0;
  while (process.hrtime.bigint() < stop) {
    let rb = 0n;
    let ro = 0n;
    for (let k = 0; k < 2; k++) {
      const first = (round + k) % 2 === 0;
      for (const which of first ? [0, 1] : [1, 0]) {
        const t0 = process.hrtime.bigint();
        let n = 0;
        for (let j = 0; j < batch; j++) {
          for (let i = 0; i < packets.length; i++) {
            n += which === 0 ? bare(packets[i]) : ours(packets[i]);
          }
        }
        const dt = process.hrtime.bigint() - t0;
        if (which === 0) {
          tBare += dt;
          nBare += n;
          rb += dt;
        } else {
          tOurs += dt;
          nOurs += n;
          ro += dt;
        }
      }
    }
    ratios.push(Number(rb) / Number(ro));
    round++;
  }
  const alertsPerSec = nOurs / (Number(tOurs) / 1e9);
  const baselinePerSec = nBare / (Number(tBare) / 1e9);
  const ratio = alertsPerSec / baselinePerSec;
  const asyncPerSec = await asyncRate(packets, 2000, b => decoder.decode(b));
  const perMessagePerSec = rate(packets, 3000, perMessage);

  const mb = (r: number) => ((r * avgBytes) / 1e6).toFixed(1);
  const rows: Array<[string, number]> = [
    [
      'createDecoder().tryDecodeSync: full decode + normalize (sync)',
      alertsPerSec,
    ],
    ['createDecoder().decode: same, awaited one at a time', asyncPerSec],
    [
      'bare avsc type.decode, cached type (bigint longs) [baseline]',
      baselinePerSec,
    ],
    [
      'schema parsed per message (JSON.parse + forSchema + decode)',
      perMessagePerSec,
    ],
  ];
  console.log(
    `packets: ${packets.length} ${source}, mean ${(avgBytes / 1024).toFixed(1)} KiB`,
  );
  console.log(
    `node ${process.version}, ${os.cpus().length} cpus (${os.cpus()[0]?.model ?? '?'}), one core used`,
  );
  console.log(
    `${round} interleaved rounds of ${2 * batch * packets.length} alerts per path; ` +
      `per-round ratio median ${median(ratios).toFixed(3)}, min ${Math.min(...ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)}`,
  );
  console.log('');
  console.log(
    `${'mode'.padEnd(66)} ${'alerts/s'.padStart(10)} ${'MB/s'.padStart(8)}`,
  );
  for (const [name, r] of rows) {
    console.log(
      `${name.padEnd(66)} ${r.toFixed(0).padStart(10)} ${mb(r).padStart(8)}`,
    );
  }
  console.log('');
  console.log(
    `ratio (ours / bare avsc): ${ratio.toFixed(3)}; ` +
      `type cache speed-up over per-message parsing: ${(alertsPerSec / perMessagePerSec).toFixed(1)}x`,
  );
  console.log(
    JSON.stringify({
      bench: 'decode',
      alertsPerSec: Math.round(alertsPerSec),
      baselinePerSec: Math.round(baselinePerSec),
      ratio: Number(ratio.toFixed(3)),
    }),
  );
}

main().catch(e => {
  console.error(e);
  process.exitCode = 1;
});
