/** Fixture generators shared by tests, benchmarks and the CLI (deterministic by seed; never read ../shared). */

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
export {
  generateLsstPacket,
  lsstLikeSchemas,
  lsstLikeSchemaText,
  lsstLikeType,
  writeLsstSchemaDir,
  writeMixedSchemaDir,
} from './lsst-packet';
export type {LsstPacketOptions} from './lsst-packet';
export {generateLiteJson, pythonJson} from './lite-json';
export type {LiteJsonOptions} from './lite-json';
export {startSchemaRegistry} from './registry-server';
export type {SchemaRegistry} from './registry-server';
