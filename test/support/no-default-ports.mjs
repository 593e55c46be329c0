// Loaded into every test process and every process a test starts (vitest's setupFiles and
// NODE_OPTIONS): a test that binds a default port of `npm start` fails at once, so the suite never
// collides with a pipeline a developer has running. Kept in step with LISTENERS in
// local/runtime/ports.ts by test/local/ports.test.ts.
import net from 'node:net';

export const DEFAULT_PORTS = new Set([8883, 8884, 8886]);

const listen = net.Server.prototype.listen;
if (!listen.aiotGuarded) {
  net.Server.prototype.listen = function guardedListen(...args) {
    const first = args[0];
    const port = Number(typeof first === 'object' && first !== null ? first.port : first);
    if (DEFAULT_PORTS.has(port)) {
      throw new Error(
        `a test tried to listen on port ${port}, a default port of "npm start": pass 0 (a free port) so tests never collide with a running pipeline`,
      );
    }
    return listen.apply(this, args);
  };
  net.Server.prototype.listen.aiotGuarded = true;
}
