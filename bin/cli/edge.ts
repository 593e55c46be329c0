import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { edgeCommand } from '../../edge/cli.ts';
import { LocalCertificateAuthority } from '../../local/broker/certs.ts';
import { readRuntimeFile } from '../../local/runtime/runtime.ts';

/**
 * `aiot edge`: the device agent against the local runtime. The certificates come from the
 * runtime's folder (`--certs-dir`, default `.aiot/certs`): the CA must exist there already (a
 * second CA would make every connection fail), and the thing's certificate is issued on first
 * use. Without --endpoint, the agent connects to the port of the runtime running on that folder,
 * and without --data-dir it keeps its queue in that folder's `edge/<thing>`.
 */
export function localEdgeCommand(): Command {
  return edgeCommand('edge', async (options, command) => {
    const certsDir = path.resolve(options.certsDir);
    const runtimeDir = path.dirname(certsDir);
    // A device that provisions itself from a claim certificate is issued nothing here.
    if (!options.cert && options.claimCert === undefined && options.thing !== undefined) {
      if (!existsSync(path.join(certsDir, 'ca.crt')))
        throw new InvalidArgumentError(
          `no local CA in ${certsDir}: start the runtime first (npm start), or point --certs-dir at <data-dir>/certs of the runtime you started with --data-dir`,
        );
      const ca = await LocalCertificateAuthority.openOrCreate(certsDir);
      await ca.devicePair(options.thing);
    }
    // The agent's queue lives with the runtime it sends to: <data folder>/edge/<thing>.
    if (options.dataDir === undefined && options.thing !== undefined)
      options.dataDir = path.join(runtimeDir, 'edge', options.thing);
    if (command.getOptionValueSource('endpoint') === 'default') {
      const running = readRuntimeFile(runtimeDir);
      if (running) options.endpoint = `mqtts://localhost:${running.mqttPort}`;
    }
  });
}
