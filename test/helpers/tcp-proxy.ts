/**
 * A loopback TCP proxy whose link can be cut, for fault tests: `up` forwards,
 * `refuse` closes every new connection at once, `blackhole` accepts new
 * connections and drops every byte (a hung peer). Leaving `up` cuts the open
 * connections.
 */

import {createServer, Server, Socket, connect} from 'node:net';

export type ProxyMode = 'up' | 'refuse' | 'blackhole';

export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  mode: ProxyMode;
  setMode(mode: ProxyMode): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: {
  host: string;
  port: number;
}): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let mode: ProxyMode = 'up';
  const server: Server = createServer(client => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    if (mode === 'refuse') {
      client.destroy();
      return;
    }
    if (mode === 'blackhole') {
      client.on('data', () => {});
      return;
    }
    const upstream = connect(target.port, target.host);
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const proxy: TcpProxy = {
    host: '127.0.0.1',
    port,
    get mode() {
      return mode;
    },
    set mode(m) {
      proxy.setMode(m);
    },
    setMode(m) {
      mode = m;
      if (m !== 'up') {
        // Cut what is open; new connections follow the mode.
        for (const sock of sockets) sock.destroy();
        sockets.clear();
      }
    },
    close: () =>
      new Promise<void>(resolve => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return proxy;
}
