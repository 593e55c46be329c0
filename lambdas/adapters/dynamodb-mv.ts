import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BaselineModel } from '../../core/kpi/mv/change-point.ts';
import type { KeptMvPoint, KeptSavings, MvKeeping } from '../../core/kpi/mv/kept-mv.ts';
import { batchPut } from './dynamodb-batch-put.ts';
import { queryAll } from './dynamodb-query-all.ts';

const pointPartition = (useCase: string) => `MV#${useCase}`;
const savingsPartition = (useCase: string) => `SAVINGS#${useCase}`;
const iso = (time: number) => new Date(time).toISOString();

/**
 * The M&V of the KPIs with a baseline in the cloud's `kpis` table, beside the KPI days: each
 * interval's point (pk `MV#<use case>`, sk `<kpi>#<interval start>`) and each KPI's latest
 * savings (pk `SAVINGS#<use case>`, sk `<kpi>`). docs/kpis.md says how to read them.
 */
export class DynamoDbMvKeeping implements MvKeeping {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async points(useCase: string, kpi: string): Promise<KeptMvPoint[]> {
    const items = await queryAll(this.client, this.tableName, {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :kpi)',
      ExpressionAttributeValues: { ':pk': pointPartition(useCase), ':kpi': `${kpi}#` },
    });
    return items.map((item) => ({
      useCase,
      kpi,
      from: Number(item.from),
      y: typeof item.y === 'number' ? item.y : null,
      x: (item.x ?? {}) as Record<string, number>,
      computedAt: Number(item.computedAt),
    }));
  }

  /** The latest savings of every KPI of the use case. */
  async savings(useCase: string): Promise<KeptSavings[]> {
    const { Items } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': savingsPartition(useCase) },
      }),
    );
    return (Items ?? []).map((item) => {
      const { pk: _pk, sk: _sk, model, ...figures } = item;
      return {
        ...(figures as Omit<KeptSavings, 'model'>),
        model: typeof model === 'string' ? (JSON.parse(model) as BaselineModel) : null,
      };
    });
  }

  putPoints(points: readonly KeptMvPoint[]): Promise<void> {
    return batchPut(
      this.client,
      this.tableName,
      points.map((point) => ({
        pk: pointPartition(point.useCase),
        sk: `${point.kpi}#${iso(point.from)}`,
        kpi: point.kpi,
        from: point.from,
        // Absent where the interval had no full data.
        ...(point.y === null ? {} : { y: point.y }),
        x: point.x,
        computedAt: point.computedAt,
      })),
      'M&V points',
    );
  }

  putSavings(savings: readonly KeptSavings[]): Promise<void> {
    return batchPut(
      this.client,
      this.tableName,
      savings.map(({ model, ...figures }) => ({
        pk: savingsPartition(figures.useCase),
        sk: figures.kpi,
        ...figures,
        // As JSON: a model's optional fields are undefined, which DynamoDB does not store.
        model: model === null ? null : JSON.stringify(model),
      })),
      'KPI savings',
    );
  }
}
