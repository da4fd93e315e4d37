/** Loopback port helpers for the local emulators. */

import {request} from 'node:http';
import {createServer} from 'node:net';

export const LOOPBACK = '127.0.0.1';

/** A port that was free a moment ago (the OS picks it: listen on port 0). */
export function findFreePort(host = LOOPBACK): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({host, port: 0, exclusive: true}, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() =>
        port ? resolve(port) : reject(new Error('no port assigned')),
      );
    });
  });
}

/** True when nothing listens on host:port (we can bind it ourselves). */
export function isPortFree(port: number, host = LOOPBACK): Promise<boolean> {
  return new Promise(resolve => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({host, port, exclusive: true}, () =>
      server.close(() => resolve(true)),
    );
  });
}

/**
 * The HTTP status of `GET http://host:port/`, or undefined when nothing
 * answers within `timeoutMs`.
 */
export function httpStatus(
  port: number,
  host = LOOPBACK,
  timeoutMs = 1000,
): Promise<number | undefined> {
  return new Promise(resolve => {
    const req = request(
      {host, port, path: '/', method: 'GET', timeout: timeoutMs, agent: false},
      res => {
        res.resume();
        resolve(res.statusCode);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}
