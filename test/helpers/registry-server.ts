/**
 * A local Confluent-compatible schema registry for tests (node:http on
 * 127.0.0.1, a free port or the one asked for): `GET /schemas/ids/{id}` →
 * `{"schema": "<text>"}`, 404 for unknown ids, or a forced status to simulate
 * an outage. `close()` and a new registry on the same `port` simulate a
 * registry that goes down and comes back.
 */

import {createServer} from 'node:http';
import {AddressInfo} from 'node:net';

export interface SchemaRegistry {
  url: string;
  /** Request paths received, in order. */
  requests: string[];
  /** Forces every answer to this status (e.g. 503); undefined = normal. */
  forceStatus: number | undefined;
  close(): Promise<void>;
}

export async function startSchemaRegistry(
  schemas: Map<number, string> | Record<number, string>,
  options: {port?: number} = {},
): Promise<SchemaRegistry> {
  const byId =
    schemas instanceof Map
      ? schemas
      : new Map(Object.entries(schemas).map(([k, v]) => [Number(k), v]));
  const state: SchemaRegistry = {
    url: '',
    requests: [],
    forceStatus: undefined,
    close: async () => {},
  };
  const server = createServer((req, res) => {
    state.requests.push(req.url ?? '');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, {
        'content-type': 'application/vnd.schemaregistry.v1+json',
      });
      res.end(JSON.stringify(body));
    };
    if (state.forceStatus !== undefined) {
      return json(state.forceStatus, {
        error_code: state.forceStatus,
        message: 'forced',
      });
    }
    const m = /^\/schemas\/ids\/(-?\d+)$/.exec(req.url ?? '');
    const schema = m ? byId.get(Number(m[1])) : undefined;
    if (req.method !== 'GET' || !schema) {
      return json(404, {error_code: 40403, message: 'Schema not found'});
    }
    json(200, {schema});
  });
  await new Promise<void>(resolve =>
    server.listen(options.port ?? 0, '127.0.0.1', resolve),
  );
  const {port} = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}`;
  state.close = () =>
    new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close(e => (e ? reject(e) : resolve()));
    });
  return state;
}
