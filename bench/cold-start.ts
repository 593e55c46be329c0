/**
 * What each deployed function's bundle adds to a cold start: the time a fresh `node` takes to load
 * it (its modules evaluated, the handler not yet called; Lambda's own runtime start not included),
 * and its size, for every function of `cdk synth` as `cdk deploy` would ship it.
 *
 *   npm run bench:cold-start [-- --runs 5]
 *
 * The last line is one JSON object: functions, medianLoadMs (by function), maxLoadMs, maxBytes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 50)
  throw new Error(`--runs must be a whole number from 1 to 50, got "${values.runs}"`);

interface Template {
  Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: unknown }; Runtime?: string } }>;
}

/**
 * The load time of one bundle in a fresh process, ms (`require` alone, timed inside), or why it
 * cannot load here: CDK's own functions (log retention, the custom-resource framework) use the
 * AWS SDK the Lambda runtime provides, which a bare `node` does not have.
 */
function loadMs(file: string): number | string {
  let out: Buffer;
  try {
    out = execFileSync(
      process.execPath,
      [
        '-e',
        'const t = process.hrtime.bigint(); require(process.argv[1]); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));',
        file,
      ],
      // What Lambda sets that a module may read as it loads; no credentials: nothing may call AWS.
      {
        env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', AWS_LAMBDA_FUNCTION_NAME: 'bench' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '');
    const missing = /Cannot find module '(@aws-sdk\/[^']+)'/.exec(stderr)?.[1];
    if (missing) return `uses the runtime's ${missing}`;
    throw new Error(`${file} failed to load: ${stderr.split('\n').slice(0, 5).join(' ')}`, { cause: error });
  }
  return Number(out.toString());
}

type Row =
  | { readonly name: string; readonly bytes: number; readonly median: number; readonly max: number }
  | { readonly name: string; readonly bytes: number; readonly skipped: string };

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

const outdir = mkdtempSync(path.join(tmpdir(), 'aiot-cold-'));
try {
  process.stderr.write('cdk synth (bundling every function)...\n');
  execFileSync('npx', ['cdk', 'synth', '--quiet', '--output', outdir], {
    stdio: 'ignore',
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
  });
  const templateFile = readdirSync(outdir).find((name) => name.endsWith('.template.json'));
  if (!templateFile) throw new Error(`cdk synth wrote no template in ${outdir}`);
  const template = JSON.parse(readFileSync(path.join(outdir, templateFile), 'utf8')) as Template;
  const functions = Object.entries(template.Resources).flatMap(([logicalId, resource]) => {
    const key = resource.Properties.Code?.S3Key;
    if (resource.Type !== 'AWS::Lambda::Function' || typeof key !== 'string') return [];
    const file = path.join(outdir, `asset.${key.replace(/\.zip$/, '')}`, 'index.js');
    // The logical id without CDK's hash: which function it is.
    return existsSync(file) ? [{ name: logicalId.replace(/[0-9A-F]{8}$/, ''), file }] : [];
  });
  const rows = functions.map(({ name, file }, index): Row => {
    process.stderr.write(`${index + 1}/${functions.length} ${name}: ${runs} loads\n`);
    const first = loadMs(file);
    if (typeof first === 'string') return { name, bytes: statSync(file).size, skipped: first };
    const times = [first, ...Array.from({ length: runs - 1 }, () => loadMs(file) as number)];
    return { name, bytes: statSync(file).size, median: median(times), max: Math.max(...times) };
  });
  const measured = rows.flatMap((row) => ('skipped' in row ? [] : [row]));
  measured.sort((a, b) => b.median - a.median);
  const table = new Table({
    head: ['function', 'bundle KiB', 'load ms (median)', 'load ms (max)'],
    style: { head: [], border: [] },
  });
  for (const row of measured)
    table.push([row.name, (row.bytes / 1024).toFixed(0), row.median.toFixed(0), row.max.toFixed(0)]);
  for (const row of rows)
    if ('skipped' in row) table.push([row.name, (row.bytes / 1024).toFixed(0), row.skipped, '']);
  console.log(
    `${functions.length} functions, ${runs} fresh loads each, Node.js ${process.version}\n${table.toString()}`,
  );
  console.log(
    JSON.stringify({
      functions: measured.length,
      medianLoadMs: Object.fromEntries(measured.map((row) => [row.name, Math.round(row.median)])),
      maxLoadMs: Math.round(Math.max(...measured.map((row) => row.max))),
      maxBytes: Math.max(...measured.map((row) => row.bytes)),
      notMeasured: rows.flatMap((row) => ('skipped' in row ? [row.name] : [])),
    }),
  );
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
