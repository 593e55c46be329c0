import type { Server } from 'node:net';

/** Listens, turning the usual failures into messages that say which flag to change. */
export function listen(server: Server, port: number, host: string, flag: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new Error(
            `port ${port} on ${host} is already in use: stop what holds it or pass ${flag} <port> (0 picks a free one)`,
          ),
        );
      } else if (error.code === 'EACCES') {
        reject(new Error(`no permission to listen on port ${port}: pass ${flag} with a port above 1023`));
      } else reject(error);
    });
    server.listen(port, host, () => {
      resolve();
    });
  });
}
