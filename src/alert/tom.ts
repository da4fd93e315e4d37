/**
 * The mappings of tom_pittgoogle, on the normalized {@link Alert}:
 * `lighten` (the flat "lite" dict of its consumer), and TOM Toolkit's
 * `to_generic_alert` / `to_target`.
 */

import {Alert, MessageMetadata} from './model';

/**
 * The fields of an alert the mappings read: a decoded {@link Alert}, or the
 * same top-level fields of a stored alert document (the read API).
 */
export type TomSource = Pick<
  Alert,
  'survey' | 'objectId' | 'sourceId' | 'ra' | 'dec' | 'jd' | 'mag' | 'classtar'
>;

/** tom_pittgoogle's flat dict. Ids are exact strings. */
export interface LightAlert {
  objectId: string;
  candid: string;
  jd: number | null;
  ra: number | null;
  dec: number | null;
  magpsf: number | null;
  classtar: number | null;
  message_id?: string;
  publish_time?: string;
  'kafka.timestamp'?: string;
}

export function lighten(
  alert: TomSource,
  metadata?: MessageMetadata,
): LightAlert {
  const light: LightAlert = {
    objectId: alert.objectId,
    candid: alert.sourceId,
    jd: alert.jd,
    ra: alert.ra,
    dec: alert.dec,
    magpsf: alert.mag,
    classtar: alert.classtar,
  };
  if (metadata) {
    if (metadata.messageId !== undefined) light.message_id = metadata.messageId;
    if (metadata.publishTime !== undefined) {
      light.publish_time = metadata.publishTime;
    }
    const ts = metadata.attributes?.['kafka.timestamp'];
    if (ts !== undefined) light['kafka.timestamp'] = ts;
  }
  return light;
}

/** TOM Toolkit's GenericAlert. */
export interface GenericAlert {
  /** The source id (ZTF candid), as an exact string. */
  id: string;
  name: string;
  ra: number | null;
  dec: number | null;
  mag: number | null;
  score: number | null;
  /** ISO-8601 UTC from the alert's jd; null when it has none. */
  timestamp: string | null;
  /** The object's page on a public alert explorer (ZTF: ALeRCE); null for LSST. */
  url: string | null;
}

/** TOM Toolkit's Target fields. */
export interface TomTarget {
  name: string;
  type: 'SIDEREAL';
  ra: number | null;
  dec: number | null;
}

const UNIX_EPOCH_JD = 2440587.5;
const MS_PER_DAY = 86_400_000;

/** ISO-8601 UTC time of a Julian date (ms precision); null when not finite. */
export function jdToIso(jd: number | null): string | null {
  if (jd === null || !Number.isFinite(jd)) return null;
  const d = new Date(Math.round((jd - UNIX_EPOCH_JD) * MS_PER_DAY));
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export function alertUrl(
  alert: Pick<Alert, 'survey' | 'objectId'>,
): string | null {
  return alert.survey === 'ztf'
    ? `https://alerce.online/object/${encodeURIComponent(alert.objectId)}`
    : null;
}

export function toGenericAlert(alert: TomSource): GenericAlert {
  return {
    id: alert.sourceId,
    name: alert.objectId,
    ra: alert.ra,
    dec: alert.dec,
    mag: alert.mag,
    score: alert.classtar,
    timestamp: jdToIso(alert.jd),
    url: alertUrl(alert),
  };
}

export function toTarget(alert: Alert): TomTarget {
  return {name: alert.objectId, type: 'SIDEREAL', ra: alert.ra, dec: alert.dec};
}
