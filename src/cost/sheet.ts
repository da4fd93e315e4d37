/**
 * The capacity and cost sheet of docs/capacity.md: the surveys, the
 * deployment, the CPU figures the committed sheet uses, and the markdown
 * tables `npm run cost` prints (and writes between the sheet's markers).
 */

import {ALERT_SHARDS} from '../store/layout';
import {
  Case,
  CaseResult,
  CpuFigures,
  Deployment,
  designCapacity,
  runCase,
  Survey,
} from './model';
import {listPrices, Prices, PRICES, PRICES_GATHERED} from './prices';

export const SURVEYS: Survey[] = [
  {
    // ZTF: 0.6-1.2 M alerts a night (peaks above 2 M), ~80,000 a minute at
    // the peak; sizes: the four real packets shipped for the tests
    // (66.9-74.8 KB; alert documents 14.2-41.0 KB, mean 25.7 KB; cutouts
    // documents 40.8-41.5 KB).
    name: 'ZTF',
    alertsPerNight: 1_000_000,
    peakPerSec: 1_333,
    messageBytes: 71_200,
    alertDocBytes: 25_700,
    cutoutsDocBytes: 41_200,
  },
  {
    // LSST: ~10 M alerts a night, ~1,300 a second at the peak (40,000 per
    // visit within ~60 s), packets up to ~82 KB. Sizes assumed: no real
    // packet with stamps and histories is available here, so the 82 KB
    // bound is split as ZTF's packets split (stamps ~55 %).
    name: 'LSST',
    alertsPerNight: 10_000_000,
    peakPerSec: 1_300,
    messageBytes: 82_000,
    alertDocBytes: 32_000,
    cutoutsDocBytes: 45_000,
  },
];

/** As deployed (src/deploy/config.ts), with a 30-day retention for the storage columns. */
export const DEPLOYMENT: Deployment = {
  vcpuPerInstance: 1,
  memoryGiB: 0.5,
  cpuUtilization: 0.6,
  maxInstances: 20,
  retentionDays: 30,
  nightsPerMonth: 30,
  // ~28 single-field index entries (14 indexed top-level fields, ascending
  // and descending) and 10 composite ones, each ~130 bytes (the document's
  // name ~85, the values, 32 bytes of overhead): ~5 KB per alert. The
  // cutouts document's fields are all exempt.
  indexBytesPerAlert: 5_000,
};

/** The committed sheet's CPU figures (bench/README.md, bench:cutouts of 2026-12-03). */
export const COMMITTED_CPU: CpuFigures = {
  storedDropMs: 2.78,
  storedSeparateMs: 3.04,
  rejectedMs: 1.28,
  source:
    'bench/README.md, `npm run bench:cutouts` of 2026-12-03 (medians of 4 alternating rounds at 32 requests in flight, load average 6.3): CUTOUTS=drop 2.78 ms, separate 3.04 ms, rejected by the filter 1.28 ms per alert; the drop figure matches bench:push session 5 (D, median of six runs: 2.77 ms)',
};

export const PASS_FRACTIONS = [1, 0.1, 0.01];

export function allCases(surveys = SURVEYS): Case[] {
  return surveys.flatMap(survey =>
    PASS_FRACTIONS.flatMap(passFraction =>
      [true, false].map(cutouts => ({survey, passFraction, cutouts})),
    ),
  );
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const num = (n: number, d = 1) =>
  n.toLocaleString('en-US', {
    maximumFractionDigits: d,
    minimumFractionDigits: d,
  });
const usd = (n: number) =>
  n >= 100 ? `$${int(n)}` : n >= 1 ? `$${num(n, 2)}` : `$${num(n, 3)}`;
const pct = (f: number) => `${f * 100} %`;

export function costTable(results: CaseResult[]): string {
  const rows = [
    '| survey | pass | cutouts | stored / night | instances at peak | vCPU-s / night (billable) | requests / night | Firestore writes / night | writes/s at peak | GiB / night | GiB stored (30 d) | Pub/Sub GiB / night | $ / night | $ / month |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const c = r.case;
    rows.push(
      `| ${c.survey.name} | ${pct(c.passFraction)} | ${c.cutouts ? 'separate' : 'drop'} | ${int(r.storedPerNight)} | ${r.peakInstances} | ${int(r.billableVcpuSecondsPerNight)} | ${int(r.requestsPerNight)} | ${int(r.firestoreWritesPerNight)} | ${int(r.peakWritesPerSec)} | ${num(r.gibStoredPerNight)} | ${num(r.gibStoredPerMonth)} | ${num(r.pubsubGibPerNight, 0)} | ${usd(r.usdPerNight)} | ${usd(r.usdPerMonth)} |`,
    );
  }
  return rows.join('\n');
}

export function breakdownTable(results: CaseResult[]): string {
  const rows = [
    '| survey | pass | cutouts | instances | requests | Firestore writes | TTL deletes | Pub/Sub delivery | = $ / night | storage $ / month |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results.filter(x => x.case.passFraction !== 0.1)) {
    const c = r.case;
    rows.push(
      `| ${c.survey.name} | ${pct(c.passFraction)} | ${c.cutouts ? 'separate' : 'drop'} | ${usd(r.usd.instances)} | ${usd(r.usd.requests)} | ${usd(r.usd.writes)} | ${usd(r.usd.deletes)} | ${usd(r.usd.pubsub)} | ${usd(r.usdPerNight)} | ${usd(r.usd.storagePerMonth)} |`,
    );
  }
  return rows.join('\n');
}

export function pricesTable(): string {
  const rows = ['| price | USD | per | source |', '|---|---:|---|---|'];
  for (const [k, p] of Object.entries(PRICES)) {
    rows.push(`| ${k} | ${p.usd} | ${p.unit} | ${p.source} |`);
  }
  return rows.join('\n');
}

/** The generated part of docs/capacity.md. */
export function renderSheet(
  cpu: CpuFigures = COMMITTED_CPU,
  deployment: Deployment = DEPLOYMENT,
  prices: Prices = listPrices(),
): string {
  const results = allCases().map(c => runCase(c, cpu, deployment, prices));
  const cap = designCapacity(deployment, cpu);
  return [
    `CPU figures: ${cpu.source}.`,
    '',
    costTable(results),
    '',
    'Where the dollars of a night go (pass 100 % and 1 %):',
    '',
    breakdownTable(results),
    '',
    `Design capacity: **${int(cap.perSubscriptionAlertsPerSec)} alert documents/s per subscription** and **${int(cap.perDatabaseAlertsPerSec)}/s per database** (${ALERT_SHARDS} shards × ~500 writes/s per sequential index range; the collection-group indexes — newest across subscriptions, the light curve — are shared by every subscription of the database). The deployed ${deployment.maxInstances} instances allow ~${int(cap.byMaxInstancesAlertsPerSec)} stored alerts/s at ${pct(deployment.cpuUtilization)} CPU.`,
    '',
    `Prices (list, USD, gathered ${PRICES_GATHERED}; src/cost/prices.ts):`,
    '',
    pricesTable(),
  ].join('\n');
}

export const SHEET_BEGIN =
  '<!-- cost sheet: generated by `npm run cost -- --write`; edit src/cost/ -->';
export const SHEET_END = '<!-- end of the cost sheet -->';

/** docs/capacity.md with its generated part replaced. */
export function replaceSheet(doc: string, sheet: string): string {
  const a = doc.indexOf(SHEET_BEGIN);
  const b = doc.indexOf(SHEET_END);
  if (a < 0 || b < a) {
    throw new Error('docs/capacity.md has no cost sheet markers');
  }
  return `${doc.slice(0, a + SHEET_BEGIN.length)}\n\n${sheet}\n\n${doc.slice(b)}`;
}
