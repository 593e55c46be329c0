import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

/** The real edge agent's CLI, one process a device, killed and restarted by the hostile bench. */
export class AgentProcesses {
  /** The running agent of each device. */
  readonly running = new Map<string, ChildProcess>();

  constructor(
    private readonly root: string,
    private readonly mqttPort: number,
    private readonly dataDir: string,
    private readonly useCase: string,
  ) {}

  /** A simulated device at 20 Hz, or an agent that only drains its queue (stdin ends at once). */
  start(thing: string, source: 'simulator' | 'stdin'): ChildProcess {
    const child = spawn(
      process.execPath,
      [
        ...['--import', 'tsx', 'edge/main.ts', '--thing', thing, '--source', source, '--rate', '20'],
        ...['--endpoint', `mqtts://localhost:${this.mqttPort}`],
        ...['--manifest', path.join('usecases', `${this.useCase}.yaml`)],
        ...['--certs-dir', path.join(this.dataDir, 'certs')],
        ...['--data-dir', path.join(this.dataDir, 'edge', thing)],
        ...['--status', 'off', '--no-health', '--drain', '60', '--fsync', 'never'],
      ],
      { cwd: this.root, stdio: [source === 'stdin' ? 'pipe' : 'ignore', 'ignore', 'pipe'] },
    );
    if (source === 'stdin') child.stdin?.end();
    this.running.set(thing, child);
    return child;
  }
}
