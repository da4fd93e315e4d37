/** Fixture generators shared by tests and benchmarks (deterministic by seed; never read ../shared). */

export * from '../../src/local/generate';
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
