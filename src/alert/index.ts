/** Public API of the alert formats: decode any payload into normalized alerts. */

export {createDecoder, detectFormat} from './decode';
export type {Decoder, DecoderOptions} from './decode';
export type {
  Alert,
  Band,
  Cutout,
  Cutouts,
  MessageMetadata,
  PayloadFormat,
  Survey,
} from './model';
export {
  createDirectorySchemaSource,
  createRegistrySchemaSource,
  createSchemaSource,
  lsstVersionOfId,
} from './schema-source';
export type {RegistryOptions, SchemaSource} from './schema-source';
export {TypeCache, sharedTypeCache} from './avro-types';
export {parseLosslessJson} from './lite-json';
export {alertSummary, toJsonSafe} from './serialize';
export type {AlertSummary} from './serialize';
export {lightCurve} from './light-curve';
export type {
  Detection,
  DetectionOrigin,
  Histories,
  LightCurve,
  UpperLimit,
} from './light-curve';
export {alertUrl, jdToIso, lighten, toGenericAlert, toTarget} from './tom';
export type {GenericAlert, LightAlert, TomTarget} from './tom';
