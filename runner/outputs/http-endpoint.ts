/**
 * The HTTP endpoints outputs serve during a run (the Prometheus scrape endpoint, the live
 * dashboard): one way to start them. node:http loads only for a run that has one; the server is
 * unref'd, so a run that fails before the output's finish is not kept alive by it.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { OutputError } from '../errors.ts';

/** A started endpoint: its server and the URL base it answers at (`http://host:port`). */
export interface HttpEndpoint {
  server: Server;
  origin: string;
}

/**
 * Listens on host:port (0: any free port) with `serve`; a listen failure is rejected as the
 * output's own user-facing error (`explain`: what to do, in the output's flags).
 */
export async function listenHttp(
  serve: (request: IncomingMessage, response: ServerResponse) => void,
  host: string,
  port: number,
  explain: (error: NodeJS.ErrnoException) => OutputError,
): Promise<HttpEndpoint> {
  const { createServer } = createRequire(import.meta.url)('node:http') as typeof import('node:http');
  const server = createServer(serve);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(explain(error)));
    server.listen(port, host, () => resolve());
  });
  server.unref();
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return { server, origin: `http://${host.includes(':') ? `[${host}]` : host}:${bound}` };
}
