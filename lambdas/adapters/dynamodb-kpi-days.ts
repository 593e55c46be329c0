import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryAll } from './dynamodb-query-all.ts';
import { batchPut } from './dynamodb-batch-put.ts';
import type { KpiDay } from '../../core/kpi/kpi.ts';
import type { KeptKpiDays, StoredKpiDay } from '../../core/kpi/schedule.ts';

const partition = (useCase: string) => `KPI#${useCase}`;
const sortKey = (kpi: string, day: number) => `${kpi}#${new Date(day).toISOString().slice(0, 10)}`;

/** The `kpis` table in the cloud: one item per use case, KPI and day (pk `KPI#<use case>`, sk `<kpi>#<day>`). */
export class DynamoDbKpiDays implements KeptKpiDays {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Every day kept for the use case from `since` on; one kept before days had a coverage has none (0). */
  async since(useCase: string, since: number): Promise<StoredKpiDay[]> {
    const items = await queryAll(this.client, this.tableName, {
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: '#day >= :since',
      ExpressionAttributeNames: { '#day': 'day' },
      ExpressionAttributeValues: { ':pk': partition(useCase), ':since': since },
    });
    return items.map((item) => ({
      useCase,
      kpi: String(item.kpi),
      day: Number(item.day),
      numerator: Number(item.numerator),
      denominator: Number(item.denominator),
      coverage: typeof item.coverage === 'number' ? item.coverage : 0,
      computedAt: typeof item.computedAt === 'number' ? item.computedAt : null,
    }));
  }

  /** Keeps the days, 25 to a request, writing again what DynamoDB leaves unprocessed. */
  put(days: readonly KpiDay[], computedAt: number): Promise<void> {
    return batchPut(
      this.client,
      this.tableName,
      days.map((day) => ({
        pk: partition(day.useCase),
        sk: sortKey(day.kpi, day.day),
        kpi: day.kpi,
        day: day.day,
        numerator: day.numerator,
        denominator: day.denominator,
        coverage: day.coverage,
        computedAt,
      })),
      'KPI days',
    );
  }
}
