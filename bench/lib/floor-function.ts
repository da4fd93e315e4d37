/**
 * bench:push F: the floors (./floor.ts) as functions-framework functions,
 * loaded by the framework's CLI as the ingest function is (`--source` this
 * module): `floorStored` and `floorRejected`. Both answer 204, or 503 when
 * a write failed (the bench counts every status). Like the ingest function
 * (src/functions/index.ts) they run outside the framework's per-request
 * domain.
 */

import * as ff from '@google-cloud/functions-framework';

import {outsideDomain} from '../../src/functions/outside-domain';
import {floorRejected, floorStored, prepareFloor, PushBody} from './floor';

const ready = prepareFloor();

ff.http('floorStored', (req, res) =>
  outsideDomain(() => {
    void ready
      .then(() => floorStored(req.body as PushBody | undefined))
      .then(ok => res.status(ok ? 204 : 503).end());
  }),
);

ff.http('floorRejected', (req, res) =>
  outsideDomain(() => {
    floorRejected(req.body as PushBody | undefined);
    res.status(204).end();
  }),
);
