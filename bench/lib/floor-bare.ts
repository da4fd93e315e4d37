/**
 * bench:push F: the stored-alert floor (./floor.ts) on a bare node:http
 * server, without the functions framework (what the framework costs). Run
 * as a script on PORT (startFunctionServer's `script`).
 */

import * as http from 'node:http';

import {LOOPBACK} from '../../src/local/ports';
import {floorStored, prepareFloor} from './floor';

void prepareFloor().then(() => {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end();
        return;
      }
      void floorStored(body).then(ok => res.writeHead(ok ? 204 : 503).end());
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(process.env.PORT), LOOPBACK);
});
