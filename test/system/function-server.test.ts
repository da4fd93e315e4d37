import {strict as assert} from 'node:assert';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import * as path from 'node:path';
import {describe, it} from 'node:test';

import {startFunctionServer} from '../../src/local/function-server';
import {httpStatus, LOOPBACK} from '../../src/local/ports';

describe('function server', () => {
  it('runs a given script instead of the framework, with PORT and FUNCTION_TARGET set, and stops it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fn-script-'));
    const script = path.join(dir, 'server.js');
    writeFileSync(
      script,
      `require('node:http').createServer((req, res) => {
         res.writeHead(process.env.FUNCTION_TARGET === 'ingest' ? 204 : 500).end();
       }).listen(Number(process.env.PORT), '${LOOPBACK}');`,
    );
    const server = await startFunctionServer({
      target: 'ingest',
      script,
      env: {},
    });
    try {
      assert.equal(await httpStatus(server.port, LOOPBACK, 2000), 204);
    } finally {
      await server.stop();
      rmSync(dir, {recursive: true, force: true});
    }
    await server.exited;
    assert.equal(await httpStatus(server.port, LOOPBACK, 500), undefined);
  });
});
