/**
 * Pure: what a night of a survey's alerts costs through this deployment, and
 * what it needs at the peak. Inputs are the survey's volume and sizes, the
 * ingest function's CPU per stored and per rejected alert (measured by the
 * benchmarks), the deployment's sizing, and list prices (./prices.ts); every
 * formula is written out in docs/capacity.md.
 */

import {ALERT_SHARDS} from '../store/layout';
import type {Prices} from './prices';

const GIB = 2 ** 30;
const TIB = 2 ** 40;

export interface Survey {
  name: string;
  alertsPerNight: number;
  /** Alerts per second at the peak of a night. */
  peakPerSec: number;
  /** Pub/Sub message (the alert packet), bytes. */
  messageBytes: number;
  /** Stored alert document without stamps (Firestore's size rules), bytes. */
  alertDocBytes: number;
  /** The cutouts document (three stamps), bytes. */
  cutoutsDocBytes: number;
}

export interface CpuFigures {
  /** Function CPU per stored alert without stamps (CUTOUTS=drop), ms. */
  storedDropMs: number;
  /** Function CPU per stored alert with its cutouts document (CUTOUTS=separate), ms. */
  storedSeparateMs: number;
  /** Function CPU per alert rejected by the filter (decoded, not written), ms. */
  rejectedMs: number;
  /** Where the figures come from, in words. */
  source: string;
}

export interface Deployment {
  /** vCPUs and memory of one ingest instance (the deploy's defaults: 1, 0.5 GiB). */
  vcpuPerInstance: number;
  memoryGiB: number;
  /** Share of an instance's vCPU in use when it is busy (Cloud Run scales out near 60 %). */
  cpuUtilization: number;
  /** Most instances the deploy allows (--ingest-max-instances). */
  maxInstances: number;
  /** Days stored alerts are kept (retentionDays): null = forever. */
  retentionDays: number | null;
  nightsPerMonth: number;
  /** Index entries' bytes per stored alert document (its indexed fields), bytes. */
  indexBytesPerAlert: number;
}

export interface Case {
  survey: Survey;
  /** Share of the alerts the filter passes. */
  passFraction: number;
  /** Stamps kept (CUTOUTS=separate) or not (drop). */
  cutouts: boolean;
}

export interface CaseResult {
  case: Case;
  storedPerNight: number;
  /** Instances busy at the peak (CPU-bound), rounded up. */
  peakInstances: number;
  /** CPU the function uses per night, vCPU-seconds. */
  cpuSecondsPerNight: number;
  /** Billable instance time: CPU / utilization, vCPU-seconds. */
  billableVcpuSecondsPerNight: number;
  requestsPerNight: number;
  firestoreWritesPerNight: number;
  /** Writes per second at the peak (alert + cutouts documents). */
  peakWritesPerSec: number;
  gibStoredPerNight: number;
  /** GiB stored in steady state under the retention (null: forever → one month's growth). */
  gibStoredPerMonth: number;
  pubsubGibPerNight: number;
  usdPerNight: number;
  usdPerMonth: number;
  /** Parts of $/night, for the sheet. */
  usd: {
    instances: number;
    requests: number;
    writes: number;
    deletes: number;
    pubsub: number;
    storagePerMonth: number;
  };
}

export function runCase(
  c: Case,
  cpu: CpuFigures,
  d: Deployment,
  p: Prices,
): CaseResult {
  const n = c.survey.alertsPerNight;
  const stored = n * c.passFraction;
  const rejected = n - stored;
  const storedMs = c.cutouts ? cpu.storedSeparateMs : cpu.storedDropMs;
  const cpuSeconds = (stored * storedMs + rejected * cpu.rejectedMs) / 1000;
  const billable = cpuSeconds / d.cpuUtilization;
  const peakMsPerSec =
    c.survey.peakPerSec *
    (c.passFraction * storedMs + (1 - c.passFraction) * cpu.rejectedMs);
  // (less a hair: 2.0000000000000004 instances are 2)
  const peakInstances = Math.ceil(
    peakMsPerSec / 1000 / d.vcpuPerInstance / d.cpuUtilization - 1e-9,
  );
  const docsPerStored = c.cutouts ? 2 : 1;
  const writes = stored * docsPerStored;
  const bytesPerStored =
    c.survey.alertDocBytes +
    d.indexBytesPerAlert +
    (c.cutouts ? c.survey.cutoutsDocBytes : 0);
  const gibNight = (stored * bytesPerStored) / GIB;
  const nightsKept =
    d.retentionDays === null
      ? d.nightsPerMonth
      : (d.retentionDays * d.nightsPerMonth) / 30;
  const gibMonth = gibNight * nightsKept;
  // Pub/Sub bills at least 1 KB per message.
  const pubsubBytes = n * Math.max(1000, c.survey.messageBytes);
  const usd = {
    instances:
      billable * p.vcpuSecond +
      (billable / d.vcpuPerInstance) * d.memoryGiB * p.gibSecond,
    requests: (n / 1e6) * p.requestsPerMillion,
    writes: (writes / 1e5) * p.firestoreWritesPer100k,
    // Under a retention every document is deleted once, by TTL.
    deletes:
      d.retentionDays === null ? 0 : (writes / 1e5) * p.firestoreDeletesPer100k,
    pubsub: (pubsubBytes / TIB) * p.pubsubDeliveryPerTib,
    storagePerMonth: gibMonth * p.firestoreStorageGibMonth,
  };
  const night =
    usd.instances + usd.requests + usd.writes + usd.deletes + usd.pubsub;
  return {
    case: c,
    storedPerNight: stored,
    peakInstances,
    cpuSecondsPerNight: cpuSeconds,
    billableVcpuSecondsPerNight: billable,
    requestsPerNight: n,
    firestoreWritesPerNight: writes,
    peakWritesPerSec: c.survey.peakPerSec * c.passFraction * docsPerStored,
    gibStoredPerNight: gibNight,
    gibStoredPerMonth: gibMonth,
    pubsubGibPerNight: pubsubBytes / GIB,
    usdPerNight: night,
    usdPerMonth: night * d.nightsPerMonth + usd.storagePerMonth,
    usd,
  };
}

/** Writes/s a sequential index range takes (Firestore's soft limit). */
export const SEQUENTIAL_RANGE_WRITES_PER_SEC = 500;

/**
 * Design capacity, alert documents per second: each time-ordered index
 * grows in ALERT_SHARDS key ranges of ~500 writes/s each. Collection-scope
 * indexes are per subscription; the collection-group ones (newest across
 * subscriptions, the light curve) span every subscription of the database.
 */
export function designCapacity(d: Deployment, cpu: CpuFigures) {
  const perIndex = ALERT_SHARDS * SEQUENTIAL_RANGE_WRITES_PER_SEC;
  const byInstances =
    (d.maxInstances * d.vcpuPerInstance * d.cpuUtilization * 1000) /
    cpu.storedSeparateMs;
  return {
    perSubscriptionAlertsPerSec: perIndex,
    perDatabaseAlertsPerSec: perIndex,
    byMaxInstancesAlertsPerSec: byInstances,
  };
}
