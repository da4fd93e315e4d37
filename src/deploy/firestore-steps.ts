/**
 * The Firestore steps of a deploy: the single-field index settings (gcloud,
 * or the Admin API for collection-group scope), the TTL policies on
 * `expireAt`, the composite indexes, and the security rules (Firebase Rules
 * API).
 */

import {DeployConfig} from './config';
import {
  fieldOverrideBody,
  gcloudCanDeploy,
  IndexFile,
  renameCollections,
} from './indexes';
import {gcloud, Step} from './steps';

export function indexSteps(cfg: DeployConfig, file: IndexFile): Step[] {
  const renamed = renameCollections(file, {
    alerts: cfg.alertsCollection,
    quarantine: cfg.quarantineCollection,
    subscriptions: cfg.subscriptionsCollection,
    cutouts: cfg.cutoutsCollection,
  });
  const steps: Step[] = [];
  for (const o of renamed.fieldOverrides) {
    if (gcloudCanDeploy(o)) {
      steps.push(
        gcloud(
          o.indexes.length === 0
            ? `Exempt ${o.collectionGroup}.${o.fieldPath} from indexing`
            : `Set the single-field indexes of ${o.collectionGroup}.${o.fieldPath}`,
          [
            'firestore',
            'indexes',
            'fields',
            'update',
            o.fieldPath,
            `--collection-group=${o.collectionGroup}`,
            '--database=(default)',
            `--project=${cfg.projectId}`,
            ...(o.indexes.length === 0
              ? ['--disable-indexes']
              : o.indexes.map(i => `--index=order=${i.order.toLowerCase()}`)),
            '--quiet',
          ],
        ),
      );
    } else {
      steps.push({
        kind: 'http',
        description:
          `Set the single-field indexes of ${o.collectionGroup}.${o.fieldPath} ` +
          '(collection-group scope: Firestore Admin API, gcloud cannot)',
        method: 'PATCH',
        url:
          `https://firestore.googleapis.com/v1/projects/${cfg.projectId}` +
          `/databases/(default)/collectionGroups/${o.collectionGroup}` +
          `/fields/${o.fieldPath}?updateMask=indexConfig`,
        body: fieldOverrideBody(o),
      });
    }
  }
  // Retention: documents expire at their expireAt (null: kept). After the
  // exemption of the same field, one field operation at a time.
  for (const o of renamed.fieldOverrides.filter(x => x.ttl)) {
    steps.push(
      gcloud(
        `Expire ${o.collectionGroup} documents at their ${o.fieldPath} (TTL policy; null keeps a document)`,
        [
          'firestore',
          'fields',
          'ttls',
          'update',
          o.fieldPath,
          `--collection-group=${o.collectionGroup}`,
          '--enable-ttl',
          '--database=(default)',
          `--project=${cfg.projectId}`,
          '--quiet',
        ],
      ),
    );
  }
  for (const i of renamed.indexes) {
    steps.push(
      gcloud(
        `Create the composite index ${i.collectionGroup}(${i.fields
          .map(
            f => `${f.fieldPath} ${f.order === 'ASCENDING' ? 'asc' : 'desc'}`,
          )
          .join(
            ', ',
          )}) [${i.queryScope === 'COLLECTION' ? 'collection' : 'collection group'}]`,
        [
          'firestore',
          'indexes',
          'composite',
          'create',
          `--collection-group=${i.collectionGroup}`,
          '--database=(default)',
          `--query-scope=${i.queryScope === 'COLLECTION' ? 'collection' : 'collection-group'}`,
          ...i.fields.map(
            f =>
              `--field-config=field-path=${f.fieldPath},order=${f.order.toLowerCase()}`,
          ),
          `--project=${cfg.projectId}`,
          '--quiet',
        ],
        {ignoreAlreadyExists: true},
      ),
    );
  }
  return steps;
}

export function rulesSteps(cfg: DeployConfig, rules: string): Step[] {
  const api = `https://firebaserules.googleapis.com/v1/projects/${cfg.projectId}`;
  const release = `projects/${cfg.projectId}/releases/cloud.firestore`;
  return [
    {
      kind: 'http',
      description:
        'Upload deploy/firestore.rules as a new ruleset (Firebase Rules API)',
      method: 'POST',
      url: `${api}/rulesets`,
      body: {source: {files: [{name: 'firestore.rules', content: rules}]}},
      capture: 'RULESET_NAME',
      captureField: 'name',
    },
    {
      kind: 'http',
      description:
        'Point the Firestore release at the new ruleset (404: no release yet)',
      method: 'PATCH',
      url: `${api}/releases/cloud.firestore`,
      body: {release: {name: release, rulesetName: '${RULESET_NAME}'}},
      okStatuses: [404],
    },
    {
      kind: 'http',
      description:
        'Create the Firestore release if the update found none (409: it exists)',
      method: 'POST',
      url: `${api}/releases`,
      body: {name: release, rulesetName: '${RULESET_NAME}'},
      okStatuses: [409],
    },
  ];
}
