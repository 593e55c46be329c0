import type { Server } from 'node:net';

/** A failure to listen as a message that says which flag to change; other errors as they are. */
export function listenError(error: unknown, port: number, host: string, flag: string): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new Error(
      `port ${port} on ${host} is already in use: stop what holds it or pass ${flag} <port> (0 picks a free one)`,
    );
  }
  if (code === 'EACCES')
    return new Error(`no permission to listen on port ${port}: pass ${flag} with a port above 1023`);
  return error instanceof Error ? error : new Error(String(error));
}

/** Listens, turning the usual failures into messages that say which flag to change. */
export function listen(server: Server, port: number, host: string, flag: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(listenError(error, port, host, flag));
    });
    server.listen(port, host, () => {
      resolve();
    });
  });
}
