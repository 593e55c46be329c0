/**
 * Cost of the CDK app: wall time of `cdk synth` (bundling and cdk-nag included), the size of the
 * ingest Lambda bundle it produces, and what a browser loads for the operator console.
 *
 *   npm run bench:cdk
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import Table from 'cli-table3';

const runs = 3;
const table = new Table({
  head: ['run', 'cdk synth s', 'bundle KiB', 'bundle gzip KiB', 'console page KiB', 'console gzip KiB'],
  style: { head: [], border: [] },
});
for (let run = 1; run <= runs; run++) {
  const outdir = mkdtempSync(path.join(tmpdir(), 'aiot-synth-'));
  process.stderr.write(`synth ${run}/${runs}...\n`);
  const started = process.hrtime.bigint();
  execFileSync('npx', ['cdk', 'synth', '--quiet', '--output', outdir], {
    stdio: 'ignore',
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
  });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const bundles = readdirSync(outdir)
    .filter((name) => name.startsWith('asset.'))
    .map((name) => path.join(outdir, name, 'index.js'))
    .filter((file) => existsSync(file))
    .sort((a, b) => statSync(b).size - statSync(a).size);
  // The largest function bundle: the ingest function's (the notify function's is smaller).
  const bundle = bundles[0] ?? '';
  // The console's site asset: the page, its script and its styles, as CloudFront serves them (compressed).
  const site = readdirSync(outdir)
    .map((name) => path.join(outdir, name))
    .find((dir) => existsSync(path.join(dir, 'index.html')));
  const pageFiles = ['index.html', 'main.js', 'main.css'].map((file) =>
    readFileSync(path.join(site ?? '', file)),
  );
  table.push([
    run,
    elapsed.toFixed(1),
    (statSync(bundle).size / 1024).toFixed(0),
    (gzipSync(readFileSync(bundle)).length / 1024).toFixed(0),
    (pageFiles.reduce((sum, file) => sum + file.length, 0) / 1024).toFixed(0),
    (pageFiles.reduce((sum, file) => sum + gzipSync(file).length, 0) / 1024).toFixed(0),
  ]);
  rmSync(outdir, { recursive: true, force: true });
}
console.log(table.toString());
