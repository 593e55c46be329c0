import { Command } from 'commander';
import { ManifestError } from '../../core/usecase/manifest.ts';
import { loadUseCases, USE_CASES_DIR } from '../../usecases/catalog.ts';
import { printTable } from './output.ts';

export function usecaseCommand(): Command {
  const command = new Command('usecase').description('use-case manifests');
  command
    .command('check')
    .description('validate every use-case manifest')
    .option('--dir <dir>', 'folder of manifests', USE_CASES_DIR)
    .action((options: { dir: string }) => {
      try {
        const manifests = loadUseCases(options.dir);
        printTable(
          ['use case', 'contract', 'KPIs', 'sensors', 'inferences'],
          manifests.map((m) => ({
            'use case': m.id,
            contract: m.contract,
            KPIs: m.kpis.map((k) => `${k.id} ${k.target.text}`).join('\n'),
            sensors: m.sensors.length,
            inferences: m.inferences.length,
          })),
        );
        console.log(`${manifests.length} manifest${manifests.length === 1 ? '' : 's'} valid`);
      } catch (error) {
        if (!(error instanceof ManifestError)) throw error;
        console.error(error.message);
        process.exitCode = 1;
      }
    });
  return command;
}
