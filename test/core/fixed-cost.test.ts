import { describe, expect, it } from 'vitest';
import { fixedCost, type FixedPrices } from '../../core/cost/fixed-cost.ts';

const PRICES: FixedPrices = {
  influxInstanceMonth: 95,
  influxStorageGibMonth: null,
  interfaceEndpointAzHour: 0.01,
  sagemakerInstanceHour: { 'ml.c5.large': 0.119 },
  cloudTrailDataEventsPer100k: 0.1,
  dynamodbReadUnitsPerMillion: 0.125,
  dynamodbWriteUnitsPerMillion: 0.625,
};
/** A quiet monitored fleet as bench:lambda measures it: two read units a message, no writes. */
const QUIET = { readUnitsPerMessage: 2, writesPerMessage: 0, writeUnitsPerMessage: 0 };
const DEPLOYMENT = {
  influx: { instanceType: 'db.influx.medium', storageGib: 1364 },
  interfaceEndpointAzs: 10,
  endpoints: [{ useCase: 'pump-maintenance', instanceType: 'ml.c5.large', minInstances: 2 }],
};

describe('fixedCost', () => {
  it('GIVEN the deployment and 1,000 devices THEN each line is its quantity times its price, by hand', () => {
    const { lines, unpriced } = fixedCost(
      DEPLOYMENT,
      { devices: 1000, healthReportSeconds: 60, messagesPerDeviceMonth: 525_600, ...QUIET },
      PRICES,
    );
    expect(lines.map((l) => [l.item, Math.round(l.usdPerMonth * 100) / 100])).toEqual([
      ['InfluxDB instance (db.influx.medium)', 95],
      ['interface VPC endpoints', 73], // 10 endpoint-AZs × 730 h × $0.01
      ['SageMaker endpoint pump-maintenance (ml.c5.large, at least)', 173.74], // 2 × 730 × $0.119
      ['DynamoDB health report writes', 27.38], // 43.8 M reports × $0.625 per M write units
      ['DynamoDB scoring reads (2 units a message)', 131.4], // 525.6 M messages × 2 × $0.125 per M read units
      ['DynamoDB scoring writes (0 units a message)', 0],
      ['CloudTrail data events: health reports', 43.8], // 1,000 × 43,800 a month / 100,000 × $0.10
      ['CloudTrail data events: scoring writes (0 a message)', 0],
    ]);
    // A price the project could not read is shown, never guessed.
    expect(unpriced).toEqual([{ item: 'InfluxDB storage', quantity: 1364, unit: 'GiB-months' }]);
  });

  it('GIVEN messages that write device state THEN their write units are priced and each write call is a CloudTrail event', () => {
    const traffic = { devices: 1000, healthReportSeconds: 60, messagesPerDeviceMonth: 100_000 };
    const { lines } = fixedCost(
      DEPLOYMENT,
      { ...traffic, readUnitsPerMessage: 2, writesPerMessage: 0.5, writeUnitsPerMessage: 1.5 },
      PRICES,
    );
    const usd = (item: string) => lines.find((l) => l.item === item)?.usdPerMonth;
    // 100 M messages: 150 M write units × $0.625 per M; 50 M events / 100,000 × $0.10.
    expect(usd('DynamoDB scoring writes (1.5 units a message)')).toBeCloseTo(93.75, 6);
    expect(usd('CloudTrail data events: scoring writes (0.5 a message)')).toBeCloseTo(50, 6);
  });

  it('GIVEN the scoring load of 100,000 devices THEN the endpoint has the instances it needs at its measured rate; below its minimum, the minimum', () => {
    const audited = { devices: 100_000, healthReportSeconds: 60, messagesPerDeviceMonth: 525_600, ...QUIET };
    const endpointLine = (windowsPerSecond: number) =>
      fixedCost(DEPLOYMENT, audited, PRICES, {
        useCase: 'pump-maintenance',
        windowsPerSecond,
        windowsPerInstanceSecond: 975,
      }).lines.find((l) => l.item.startsWith('SageMaker'));
    // 20,000 windows/s at 975 an instance: 21 instances × 730 h × $0.119.
    expect(endpointLine(20_000)).toMatchObject({
      item: 'SageMaker endpoint pump-maintenance (ml.c5.large × 21 for 20,000 windows/s)',
      quantity: 21 * 730,
    });
    expect(endpointLine(20_000)?.usdPerMonth).toBeCloseTo(21 * 730 * 0.119, 6);
    // 200 windows/s: one instance would do, the endpoint keeps its 2.
    expect(endpointLine(200)?.quantity).toBe(2 * 730);
  });

  it('GIVEN an endpoint type without a price THEN it says which, instead of pricing it at nothing', () => {
    expect(() =>
      fixedCost(
        { ...DEPLOYMENT, endpoints: [{ useCase: 'hvac', instanceType: 'ml.r5.large', minInstances: 1 }] },
        { devices: 1, healthReportSeconds: 60, messagesPerDeviceMonth: 1, ...QUIET },
        PRICES,
      ),
    ).toThrow('no price for SageMaker ml.r5.large (hvac): add it to bench/aws-prices.json');
  });
});
