/**
 * The one normalized alert model shared by every survey and payload format.
 * Decoders (avro-ocf, confluent-wire, lite-json) produce it; filters, the
 * Firestore store and the TOM mappings consume it.
 */

export type Survey = 'ztf' | 'lsst';

/** How the payload was encoded on the wire (detected from the bytes). */
export type PayloadFormat = 'avro-ocf' | 'confluent-wire' | 'json';

/** Photometric band names: ZTF fid 1/2/3 = g/r/i; LSST u..y. */
export type Band = 'u' | 'g' | 'r' | 'i' | 'z' | 'y';

export interface Cutout {
  fileName: string | null;
  /**
   * The stamp as published (ZTF: gzipped FITS). A view into the payload
   * bytes given to the decoder (not a copy): copy it if you keep it and
   * reuse the payload's memory.
   */
  data: Buffer;
}

export interface Cutouts {
  science?: Cutout;
  template?: Cutout;
  difference?: Cutout;
}

/**
 * A decoded, normalized alert. Ids are exact decimal strings (64-bit ids do
 * not fit a JS number); nullable physical quantities are `null` when the
 * packet has no value, never NaN.
 */
export interface Alert {
  survey: Survey;
  format: PayloadFormat;
  /** Schema version as the survey names it: ZTF '3.3', '4.02'; LSST '11.1'; lite JSON 'lite'. */
  schemaVersion: string;
  /** ZTF `objectId`; LSST `diaObject.diaObjectId` (or ssObjectId) as a string. */
  objectId: string;
  /** ZTF `candid`; LSST `diaSource.diaSourceId`, as an exact decimal string. */
  sourceId: string;
  ra: number | null;
  dec: number | null;
  /** Julian date of the observation. */
  jd: number | null;
  /** Modified Julian date (jd - 2400000.5). */
  mjd: number | null;
  /** ZTF magpsf; LSST: AB magnitude from psfFlux in nJy (null when flux <= 0). */
  mag: number | null;
  magErr: number | null;
  band: Band | null;
  /** Number of previous detections in the packet's history (null when unknown). */
  nPrevious: number | null;
  /** ZTF star/galaxy score `classtar` (nullable in the schema); null for LSST. */
  classtar: number | null;
  cutouts: Cutouts;
  /**
   * The decoded record as published: Avro longs as `bigint`, bytes as Buffer
   * views into the payload, unions unwrapped (plain values or null); lite
   * JSON: integers beyond 2^53 as `bigint`, NaN/Infinity as null. Filters read
   * raw dot paths (`candidate.rb`) from here.
   */
  record: Record<string, unknown>;
}

/** Pub/Sub message metadata that travels with an alert. */
export interface MessageMetadata {
  messageId?: string;
  publishTime?: string;
  attributes?: Record<string, string>;
}
