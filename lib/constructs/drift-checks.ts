import type { ContractRegistry } from '../../core/contracts/registry.ts';
import * as path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { serviceFunction } from '../service-function.ts';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { useCaseSchedules } from '../use-case-schedules.ts';
import { Construct } from 'constructs';
import { DRIFT_EVENT_SOURCE, DRIFT_EVENT_TYPES } from '../../core/drift/ports.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import { compiledUseCases } from '../use-case-config.ts';
import type { TelemetryReads } from '../telemetry-store.ts';
import type { Alerting } from './alerting.ts';
import type { InferenceEndpoint } from './inference-endpoint.ts';

const HANDLER_ENTRY = path.join(import.meta.dirname, '..', '..', 'lambdas', 'drift', 'handler.ts');

export interface DriftChecksProps {
  /** The use cases to check, each on its manifest's `drift.everyMinutes`. */
  readonly useCases: readonly UseCaseManifest[];
  /** The contracts the use cases accept, compiled in with the manifests. */
  readonly contracts: ContractRegistry;
  /** Where findings are kept (its table), published (its bus) and sent to people (its topics). */
  readonly alerting: Alerting;
  /** Each use case's Timestream database, by use case id. */
  /** Where every use case's readings and scores are read from. */
  readonly telemetry: TelemetryReads;
  /**
   * Each use case's inference endpoint, by use case id: data drift asks it for its model's training
   * profile. @default - no endpoints: the data-drift check is skipped
   */
  readonly endpoints?: ReadonlyMap<string, InferenceEndpoint>;
  /** How long one run may take. @default Duration.minutes(5) */
  readonly timeout?: Duration;
}

/**
 * The drift checks in the cloud: an EventBridge Scheduler schedule per use case invokes one
 * function, which checks sensor health, data loss and the model over the recent window, keeps
 * findings and receipts in the alert table, publishes CloudWatch metrics, and puts a `Sensor
 * Unhealthy` or `Drift Detected` event per finding on the bus; a rule per use case sends those to
 * the use case's SNS topic.
 */
export class DriftChecks extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly schedules: ReadonlyMap<string, scheduler.Schedule>;
  /** Runs the schedules could not deliver after their retries. */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: DriftChecksProps) {
    super(scope, id);
    if (props.useCases.length === 0) throw new Error('DriftChecks needs at least one use case, got none');
    const timeout = props.timeout ?? Duration.minutes(5);
    if (timeout.toSeconds() < 30 || timeout.toSeconds() > 900) {
      throw new Error(`timeout must be from 30 seconds to 15 minutes, got ${timeout.toHumanString()}`);
    }

    const { fn, role } = serviceFunction(this, {
      entry: HANDLER_ENTRY,
      description: 'Drift checks: sensor health, data loss, data drift and model performance',
      roleDescription:
        'Reads readings, scores and alerts to check drift; records findings and publishes their events',
      memorySize: 1024,
      timeout,
      environment: {
        ALERT_TABLE: props.alerting.table.tableName,
        EVENT_BUS_NAME: props.alerting.bus.eventBusName,
        ...props.telemetry.readerEnvironment,
        MODEL_ENDPOINTS: Stack.of(this).toJsonString(
          Object.fromEntries(
            [...(props.endpoints ?? [])].flatMap(([useCase, endpoint]) =>
              endpoint.endpointName ? [[useCase, endpoint.endpointName]] : [],
            ),
          ),
        ),
        POWERTOOLS_SERVICE_NAME: 'drift-checks',
        POWERTOOLS_METRICS_NAMESPACE: 'aiot/drift',
      },
      define: compiledUseCases(props.useCases, props.contracts),
      ...(props.telemetry.network ? { network: props.telemetry.network } : {}),
    });
    this.function = fn;
    props.alerting.grantDriftRecords(role);
    props.telemetry.grantRead(role);
    for (const endpoint of props.endpoints?.values() ?? []) {
      if (endpoint.endpointName) endpoint.grantInvoke(role);
    }

    ({ schedules: this.schedules, deadLetterQueue: this.deadLetterQueue } = useCaseSchedules(
      this,
      this.function,
      props.useCases.map((manifest) => ({
        useCase: manifest.id,
        description: `Drift checks of ${manifest.id} every ${manifest.drift.everyMinutes} minutes`,
        every: Duration.minutes(manifest.drift.everyMinutes),
      })),
      {
        name: 'drift',
        roleDescription:
          'Lets the drift schedules invoke the drift function and dead-letter what they cannot deliver',
      },
    ));

    for (const manifest of props.useCases) {
      const topic = props.alerting.topics.get(manifest.id);
      if (!topic) throw new Error(`no alert topic for use case "${manifest.id}"`);
      new events.Rule(this, `Notify-${manifest.id}`, {
        description: `Sends ${manifest.id}'s drift findings to its topic`,
        eventBus: props.alerting.bus,
        eventPattern: {
          source: [DRIFT_EVENT_SOURCE],
          detailType: [...DRIFT_EVENT_TYPES],
          detail: { useCase: [manifest.id] },
        },
        targets: [
          new eventTargets.SnsTopic(topic, {
            message: events.RuleTargetInput.fromText(
              `${events.EventField.detailType} (${manifest.id}): ${events.EventField.fromPath('$.detail.finding.summary')}. Next: ${events.EventField.fromPath('$.detail.finding.action')}`,
            ),
          }),
        ],
      });
    }
  }
}
