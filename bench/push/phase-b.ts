/** bench:push phase B: bare Firestore create() of the function's documents, 1 and 2 in flight. */

import {round} from '../lib/push-tools';
import {cpuMeter, creates, documents, rows, say, summary} from './setup';

async function createsAt(concurrency: number, subscription: string) {
  const {docs, msPerDoc} = documents(subscription);
  // Warm the client (connection, first RPC) on a few documents of another path.
  const warm = documents(`${subscription}-warm`, 20).docs;
  await creates(warm, Math.min(concurrency, 4));
  const cpu = cpuMeter();
  const r = await creates(docs, concurrency);
  const cpuMs = cpu.perAlert(docs.length);
  say(
    `B${concurrency}: Firestore create, ${concurrency} in flight: ${round(r.rate)}/s, latency mean ${round(r.meanMs, 2)} ms (p50 ${round(r.p50, 2)}, p99 ${round(r.p99, 1)})`,
  );
  rows.push({
    what: `B: Firestore create(), ${concurrency} in flight`,
    rate: r.rate,
    latencyMs: r.meanMs,
    note: `p50 ${round(r.p50, 2)} / p99 ${round(r.p99, 1)} ms`,
  });
  summary['toAlertDocumentMs'] = round(msPerDoc, 3);
  return {...r, cpuMs};
}

/** B1 and B2; returns B2's measurement (the model's create latency). */
export async function phaseB() {
  const b1 = await createsAt(1, 'bench-b1');
  const create2 = await createsAt(2, 'bench-b2');
  summary.createMs1 = round(b1.meanMs, 2);
  summary.createMs2 = round(create2.meanMs, 2);
  return create2;
}
