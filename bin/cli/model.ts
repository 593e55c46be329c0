import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { parseCsvTable } from '../../model/csv-table.ts';
import { invoke, loadModel } from '../../model/invocations.ts';
import { startModelServer } from '../../model/serve.ts';
import { runTraining } from '../../model/train.ts';
import { scoreAsDevice } from '../../model/score-as-device.ts';
import { integer, positiveNumber } from './options.ts';
import { retrainCommand } from './retrain.ts';
import { modelLifecycleCommands } from './model-lifecycle.ts';

function trainSubcommand(): Command {
  return new Command('train')
    .description('train from CSV files, as the container does (hyperparameters.json optional)')
    .requiredOption('--train <dir>', 'folder of CSV files (header row; , or ;)')
    .requiredOption('--model-dir <dir>', 'where to write model.json and training.json')
    .option('--hyperparameters <file>', 'SageMaker-style hyperparameters.json')
    .action((options: { train: string; modelDir: string; hyperparameters?: string }) => {
      const { report } = runTraining({
        trainDir: options.train,
        modelDir: options.modelDir,
        hyperparametersFile: options.hyperparameters ?? path.join(options.train, 'hyperparameters.json'),
      });
      console.log(JSON.stringify(report, null, 2));
    });
}

function serveSubcommand(): Command {
  return new Command('serve')
    .description('serve GET /ping and POST /invocations, as the container does')
    .requiredOption('--model-dir <dir>', 'folder holding model.json')
    .option('--port <port>', 'port (0: any free port)', integer('--port', 0, 65_535), 8080)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .action(async (options: { modelDir: string; port: number; host: string }) => {
      const model = loadModel(options.modelDir);
      const server = await startModelServer(model, { port: options.port, host: options.host });
      console.log(
        `serving model ${model.modelVersion} on http://${options.host}:${server.port} (Ctrl-C stops)`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => {
          resolve();
        });
      });
      await server.close();
    });
}

function scoreSubcommand(): Command {
  return new Command('score')
    .description(
      'score the rows of a CSV file in order, one line per row: score and anomalous 0/1. With ' +
        '--calibration-rows the file is one device from its commissioning: its first rows calibrate ' +
        "the device's baseline (flag 0), the rest are scored against it",
    )
    .requiredOption('--model-dir <dir>', 'folder holding model.json')
    .requiredOption('--input <csv>', "CSV file with the model's sensor columns")
    .option(
      '--calibration-rows <n>',
      "rows that calibrate the device's baseline (without it: the model's fleet-wide normal)",
      integer('--calibration-rows', 30, 1_000_000),
    )
    .option(
      '--interval-seconds <s>',
      'seconds between rows, for the baseline age',
      positiveNumber('--interval-seconds', 86_400),
      1,
    )
    .action(
      async (options: {
        modelDir: string;
        input: string;
        calibrationRows?: number;
        intervalSeconds: number;
      }) => {
        const model = loadModel(options.modelDir);
        const text = readFileSync(options.input, 'utf8');
        if (options.calibrationRows === undefined) {
          const table = parseCsvTable(text, options.input, { sensors: model.tracked.map((t) => t.sensor) });
          const response = invoke(model, { sensors: table.sensors, rows: table.rows });
          console.log(response.results.map((r) => `${r.score.toFixed(6)},${r.anomalous ? 1 : 0}`).join('\n'));
          return;
        }
        // A device may track sensors the fleet model leaves out: read every sensor the model knows.
        const table = parseCsvTable(text, options.input, { sensors: model.sensors });
        if (table.rows.length <= options.calibrationRows) {
          throw new Error(
            `${options.input} has ${table.rows.length} rows: nothing is left after ${options.calibrationRows} calibration rows`,
          );
        }
        const results = await scoreAsDevice(model, table, {
          calibrationRows: options.calibrationRows,
          intervalSeconds: options.intervalSeconds,
        });
        console.log(
          results.map((r) => `${(r.score ?? Number.NaN).toFixed(6)},${r.anomalous ? 1 : 0}`).join('\n'),
        );
        const scored = results.slice(options.calibrationRows);
        const flagged = scored.filter((r) => r.anomalous).length;
        const warming = scored.filter((r) => r.state === 'warming-up').length;
        console.error(
          `calibrated on rows 1-${options.calibrationRows}; ${flagged} of ${scored.length} rows after it flagged (${((100 * flagged) / scored.length).toFixed(2)}%)` +
            (warming > 0 ? `, ${warming} warming up` : ''),
        );
      },
    );
}

export function modelCommand(): Command {
  const command = new Command('model').description(
    'the anomaly model: train, serve and score (the SageMaker container code, run here), and its versions: retrain, list, approve, reject, rollback',
  );
  command.addCommand(trainSubcommand());
  command.addCommand(serveSubcommand());
  command.addCommand(scoreSubcommand());
  command.addCommand(retrainCommand());
  for (const sub of modelLifecycleCommands()) command.addCommand(sub);
  return command;
}
