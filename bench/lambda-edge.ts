/**
 * The AWS services the ingest function calls, stood in for at the network edge in a process of
 * its own, so that their work is not counted as the function's (bench/lambda-cost.ts):
 *
 * - DynamoDB: dynalite, a DynamoDB implementation from npm, with the alert table's key schema;
 * - SageMaker Runtime: `POST /endpoints/{name}/invocations` answered by the container's own
 *   `invoke`/`invokeBatch` on a model trained here on simulated pumps (the model's sensors);
 * - EventBridge, SQS, Secrets Manager and S3: the success answer of each call the function makes,
 *   in the service's wire format (an SQS answer carries the MD5 the SDK checks).
 *
 * Any other request is answered 400 naming it, so a call nobody stands in for fails the bench.
 * Prints one JSON line, `{"dynamodb": url, "edge": url}`, then serves until stdin closes.
 *
 *   tsx bench/lambda-edge.ts --sensors flowRate,... --table '<CreateTable input JSON>'
 */
import { createHash, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { CreateTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { AnomalyModel } from '../core/model/anomaly-model.ts';
import { benchModel } from './bench-model.ts';
import { invokeBatch, isBatchRequest } from '../model/batch-invocations.ts';
import { readBody, replyJson } from '../model/http-json.ts';
import { invoke, InvocationError } from '../model/invocations.ts';
import { MAX_BODY_BYTES } from '../model/serve.ts';

const { values } = parseArgs({
  options: { sensors: { type: 'string' }, table: { type: 'string' } },
});
if (!values.sensors || !values.table) throw new Error('lambda-edge needs --sensors and --table');
const sensors = values.sensors.split(',');
const table = JSON.parse(values.table) as CreateTableCommandInput;

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The answer to one AWS JSON-protocol call (`X-Amz-Target`), or undefined for one not stood in for. */
function jsonAnswer(target: string, body: string): unknown {
  const input = (body ? JSON.parse(body) : {}) as Record<string, unknown>;
  switch (target) {
    case 'AWSEvents.PutEvents':
      return {
        FailedEntryCount: 0,
        Entries: (input.Entries as unknown[]).map(() => ({ EventId: randomUUID() })),
      };
    case 'AmazonSQS.SendMessage':
      return {
        MessageId: randomUUID(),
        MD5OfMessageBody: createHash('md5').update(String(input.MessageBody)).digest('hex'),
      };
    case 'secretsmanager.GetSecretValue':
      // The InfluxDB token; the bench's influxd runs without authentication.
      return {
        ARN: String(input.SecretId),
        Name: 'influx-token',
        VersionId: 'v1',
        SecretString: JSON.stringify({ token: 'bench' }),
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 0,
      };
    default:
      return undefined;
  }
}

function edgeServer(model: AnomalyModel): http.Server {
  return http.createServer((request, response) => {
    void (async () => {
      const body = await readBody(request, MAX_BODY_BYTES);
      if (body === undefined) {
        replyJson(response, 413, { message: `request body above ${MAX_BODY_BYTES} bytes` });
        return;
      }
      const url = request.url ?? '';
      if (request.method === 'POST' && /^\/endpoints\/[^/]+\/invocations$/.test(url)) {
        try {
          const parsed: unknown = JSON.parse(body);
          replyJson(
            response,
            200,
            isBatchRequest(parsed) ? invokeBatch(model, parsed) : invoke(model, parsed),
          );
        } catch (error) {
          const status = error instanceof InvocationError ? error.status : 500;
          replyJson(response, status, { message: error instanceof Error ? error.message : String(error) });
        }
        return;
      }
      if (request.method === 'PUT' && url.split('/').length > 2) {
        // S3 PutObject, path-style (the endpoint is an IP address): the quarantine's object.
        response.writeHead(200, { ETag: `"${createHash('md5').update(body).digest('hex')}"` }).end();
        return;
      }
      const target = String(request.headers['x-amz-target'] ?? '');
      const answer = request.method === 'POST' ? jsonAnswer(target, body) : undefined;
      if (answer === undefined) {
        replyJson(response, 400, {
          __type: 'UnknownOperationException',
          message: `the bench's AWS edge does not stand in for ${request.method} ${url} ${target}`,
        });
        return;
      }
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(answer));
    })();
  });
}

const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
const dynamodb = await listen(dynamo);
const client = new DynamoDBClient({
  endpoint: dynamodb,
  region: 'us-east-1',
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
});
await client.send(new CreateTableCommand({ ...table, BillingMode: 'PAY_PER_REQUEST' }));
client.destroy();
const edge = edgeServer(benchModel(sensors, 'bench-lambda'));
console.log(JSON.stringify({ dynamodb, edge: await listen(edge) }));
// Serve until the parent goes: its end of stdin closes with it.
process.stdin.resume();
process.stdin.on('close', () => process.exit(0));
