/**
 * Alert packets to publish, like Pitt-Google's `ztf-loop`: files (a
 * directory searched recursively, sorted) or generated ZTF-like packets
 * (real size, deterministic by seed), with the attributes Pitt-Google sets
 * (objectId, candid, kafka.topic / partition / offset / timestamp), published
 * at a given rate, optionally looping forever.
 */

import {readFile} from 'node:fs/promises';

import type {Topic} from '@google-cloud/pubsub';

import {createDecoder} from '../alert';
import type {Survey} from '../alert';
import {errorMessage} from '../errors';
import {generateZtfPacket} from './generate';
import {listFiles} from './list-files';

export interface Packet {
  data: Buffer;
  attributes: Record<string, string>;
  /** Where it came from (file path or 'generated:SEED'). */
  origin: string;
  /** The survey of its first alert; undefined when it does not decode. */
  survey?: Survey;
}

function kafkaAttributes(offset: number): Record<string, string> {
  const now = new Date();
  const day = now.toISOString().slice(0, 10).replace(/-/g, '');
  return {
    'kafka.topic': `ztf_${day}_programid1`,
    'kafka.partition': '0',
    'kafka.offset': String(offset),
    'kafka.timestamp': String(now.getTime()),
  };
}

/**
 * Reads packets from files; objectId / candid attributes come from decoding
 * them. A file that does not decode is still published, without them (the
 * ingest side quarantines it), and reported through onWarning.
 */
export async function packetsFromPaths(
  paths: string[],
  opts: {schemaSource?: string; onWarning?: (m: string) => void} = {},
): Promise<Packet[]> {
  const decoder = createDecoder({schemaSource: opts.schemaSource});
  const packets: Packet[] = [];
  for (const p of paths) {
    for (const file of await listFiles(p)) {
      const data = await readFile(file);
      const attributes: Record<string, string> = {};
      let survey: Survey | undefined;
      try {
        const [first] = await decoder.decode(data);
        if (first) {
          attributes.objectId = first.objectId;
          attributes.candid = first.sourceId;
          survey = first.survey;
        }
      } catch (e) {
        opts.onWarning?.(
          `${file}: does not decode (${errorMessage(e)}); published as is`,
        );
      }
      packets.push({data, attributes, origin: file, survey});
    }
  }
  return packets;
}

/** Generated ZTF-like packets (~70 KB each, a few with a null classtar). */
export function generatedPackets(count: number, seed = 1): Packet[] {
  const out: Packet[] = [];
  for (let i = 0; i < count; i++) {
    const s = seed + i;
    const p = generateZtfPacket({seed: s, nullClasstar: s % 5 === 4});
    out.push({
      data: p.bytes,
      attributes: {
        objectId: p.expected[0].objectId,
        candid: p.expected[0].sourceId,
      },
      origin: `generated:${s}`,
      survey: 'ztf',
    });
  }
  return out;
}

export interface ReplayOptions {
  /** Messages per second; 0 or undefined: as fast as possible. */
  rate?: number;
  /** Start again from the first packet after the last, until stopped. */
  loop?: boolean;
  signal?: AbortSignal;
  /** Called after each publish. */
  onPublished?: (packet: Packet, messageId: string, n: number) => void;
  /** Publishes in flight when not rate-limited. Default 100. */
  concurrency?: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>(resolve => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, {once: true});
  });

/** Publishes the packets; resolves with the number published when done or aborted. */
export async function replay(
  topic: Topic,
  packets: readonly Packet[],
  opts: ReplayOptions = {},
): Promise<number> {
  if (packets.length === 0) return 0;
  let n = 0;
  const publishOne = async (p: Packet) => {
    const offset = n++;
    const id = await topic.publishMessage({
      data: p.data,
      attributes: {...p.attributes, ...kafkaAttributes(offset)},
    });
    opts.onPublished?.(p, id, offset + 1);
  };
  const rate = opts.rate ?? 0;
  if (rate > 0) {
    const interval = 1000 / rate;
    const t0 = Date.now();
    let i = 0;
    do {
      for (const p of packets) {
        if (opts.signal?.aborted) return n;
        await publishOne(p);
        i++;
        await sleep(Math.max(0, t0 + i * interval - Date.now()), opts.signal);
      }
    } while (opts.loop && !opts.signal?.aborted);
    return n;
  }
  const concurrency = Math.max(1, opts.concurrency ?? 100);
  do {
    let next = 0;
    const worker = async () => {
      while (next < packets.length && !opts.signal?.aborted) {
        await publishOne(packets[next++]);
      }
    };
    await Promise.all(Array.from({length: concurrency}, worker));
  } while (opts.loop && !opts.signal?.aborted);
  return n;
}
