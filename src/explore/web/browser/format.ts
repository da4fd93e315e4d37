/** Number, time and band formatting of the pages. */

const MJD_EPOCH_MS = Date.UTC(1858, 10, 17);
const DAY_MS = 86_400_000;

export function mjdOf(date: Date): number {
  return (date.getTime() - MJD_EPOCH_MS) / DAY_MS;
}

export function dateOfMjd(mjd: number): Date {
  return new Date(MJD_EPOCH_MS + mjd * DAY_MS);
}

export function fixed(v: number | null, digits: number): string {
  return v === null ? '—' : v.toFixed(digits);
}

export function magText(mag: number | null, err: number | null): string {
  if (mag === null) return '—';
  return err === null
    ? mag.toFixed(3)
    : `${mag.toFixed(3)} ± ${err.toFixed(3)}`;
}

/** ISO time to the second ("2018-06-30T08:15:03Z"); the text itself when unparsable. */
export function isoText(iso: string | null): string {
  if (iso === null) return '—';
  const t = Date.parse(iso);
  return Number.isNaN(t)
    ? iso
    : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** "12.3 days ago", "3.1 years ago" (from `now`). */
export function agoText(mjd: number | null, now: Date): string {
  if (mjd === null) return '—';
  const days = mjdOf(now) - mjd;
  if (days < 0) return 'in the future';
  if (days < 1) return `${(days * 24).toFixed(1)} h ago`;
  if (days < 1000) return `${days.toFixed(days < 10 ? 2 : 1)} days ago`;
  return `${days.toFixed(0)} days (${(days / 365.25).toFixed(1)} years) ago`;
}

/** Score values: numbers to 3 decimals, anything else as text. */
export function scoreText(v: unknown): string {
  if (typeof v === 'number')
    return Number.isInteger(v) ? String(v) : v.toFixed(3);
  if (v === null || v === undefined) return '—';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function bytesText(n: number | null): string {
  if (n === null) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

/** A datetime-local input's value (local time) as ISO, or null. */
export function localInputToIso(value: string): string | null {
  if (!value) return null;
  const t = new Date(value).getTime();
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

/** ISO as a datetime-local input's value (local time, to the second). */
export function isoToLocalInput(iso: string | null): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
