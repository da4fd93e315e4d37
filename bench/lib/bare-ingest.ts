/**
 * bench:push D0: the ingest pipeline exactly as the function wires it
 * (src/functions/index.ts), served by a bare node:http server instead of the
 * functions framework. Run as a script (startFunctionServer's `script`),
 * on PORT. Only for measuring what the framework costs: no auth, no 413,
 * no quarantine of malformed envelopes (a 400 is enough here).
 */

import '../../src/store/firestore-require-cache';

import * as http from 'node:http';

import {loadConfig} from '../../src/config';
import {
  createFirestore,
  createIngestContext,
} from '../../src/functions/context';
import {tuneHeap} from '../../src/functions/heap-tuning';
import {parsePushRequest} from '../../src/ingest/envelope';
import {LOOPBACK} from '../../src/local/ports';
import {createLogger} from '../../src/log';

tuneHeap();
const config = loadConfig();
const log = createLogger({
  minSeverity: config.logLevel,
  fields: {function: 'ingest'},
});
const ctx = createIngestContext(config, () => createFirestore(config), log);

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let message;
    try {
      const url = new URL(req.url ?? '/', 'http://bare');
      message = parsePushRequest({
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        headers: req.headers,
        querySubscription: url.searchParams.get('subscription') ?? undefined,
      });
    } catch {
      res.writeHead(400).end();
      return;
    }
    // As the function: handled → 204; a transient failure (the pipeline
    // quarantines permanent ones) → 503, for Pub/Sub to redeliver.
    ctx.pipeline.processMessage(message).then(
      () => res.writeHead(204).end(),
      () => res.writeHead(503).end(),
    );
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT), LOOPBACK, () => {
  void ctx.filters.warm();
});
