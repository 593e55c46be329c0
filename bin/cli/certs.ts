import * as path from 'node:path';
import { Command } from 'commander';
import { LocalCertificateAuthority } from '../../local/broker/certs.ts';
import { readRuntimeFile } from '../../local/runtime/runtime.ts';
import { dataDirOption } from './options.ts';

export function certsCommand(): Command {
  const command = new Command('certs').description('local certificates');
  command
    .command('device')
    .description('issue (or show) the local device certificate of a thing, for any MQTT client')
    .argument('<thing>', 'thing name; it becomes the certificate common name and must be the client id')
    .addOption(dataDirOption())
    .action(async (thing: string, options: { dataDir: string }) => {
      const dataDir = path.resolve(options.dataDir);
      const ca = await LocalCertificateAuthority.openOrCreate(path.join(dataDir, 'certs'));
      await ca.devicePair(thing);
      const rel = (file: string) => path.relative(process.cwd(), file);
      // The port of the runtime on this folder when it runs; else the one `aiot start` uses by default.
      const running = readRuntimeFile(dataDir);
      const port = running?.mqttPort ?? 8883;
      console.log(`CA          ${rel(ca.caCertFile)}`);
      console.log(`certificate ${rel(ca.deviceCertFile(thing))}`);
      console.log(`key         ${rel(ca.deviceKeyFile(thing))}`);
      console.log(
        `\nfor example, with mosquitto_pub${running ? '' : ` (port ${port} is the default of "aiot start"; none runs on ${rel(dataDir) || '.'} now)`}:\n  mosquitto_pub -h localhost -p ${port} --cafile ${rel(ca.caCertFile)} --cert ${rel(ca.deviceCertFile(thing))} --key ${rel(ca.deviceKeyFile(thing))} -i ${thing} -q 1 -t dt/pump-maintenance/${thing}/telemetry -m "$(npm run -s aiot -- contracts example pump.telemetry@1 --device ${thing})"`,
      );
    });
  return command;
}
