/**
 * Generated ZTF-like packets (real size, deterministic by seed) that `npm
 * start` and `pittgoogle publish` replay when no packet files are given.
 */

export {Random} from './random';
export {ocfHeader, writeOcf} from './ocf-writer';
export type {OcfWriteOptions} from './ocf-writer';
export {ztfLikeSchema, ztfLikeSchemaText, TRAP_FIELDS} from './ztf-schema';
export {generateZtfPacket, ztfLikeType} from './ztf-packet';
export type {
  ExpectedAlert,
  GeneratedPacket,
  ZtfPacketOptions,
} from './ztf-packet';
