import { describe, expect, it } from 'vitest';
import { tieredCost, totalUsd, transportCost, type UnitPrices } from '../../core/cost/transport-cost.ts';

const prices: UnitPrices = {
  iotMessaging: { tiers: [{ upToMillions: null, usdPerMillion: 1 }] },
  iotConnectivityPerMillionMinutes: 0.1,
  iotRulesTriggeredPerMillion: 0.15,
  iotActionsExecutedPerMillion: 0.15,
  sqsRequestsPerMillion: 0.4,
  lambdaRequestsPerMillion: 0.2,
  lambdaGbSecond: 0.00001,
  timestreamWritesPerMillionKb: 0.5,
  kinesisShardHour: 0.015,
  kinesisPutUnitsPerMillion: 0.014,
};
// 10 devices, one reading a second, 30 days: 25.92 million readings; 432,000 connection-minutes.
const fleet = { devices: 10, rate: 1, readingBytes: 500, packedReadingBytes: 200, storedReadingBytes: 256 };
const byItem = (lines: ReturnType<typeof transportCost>) =>
  Object.fromEntries(lines.map((line) => [line.item, Math.round(line.usdPerMonth * 1e6) / 1e6]));

describe('transport cost model, against hand-computed bills', () => {
  it('GIVEN the naive design THEN each reading pays a message, a rule, an action, an invocation and a 1 KB write', () => {
    const lines = transportCost(
      fleet,
      { kind: 'naive', lambdaMsPerMessage: 100, lambdaMemoryMb: 1024 },
      prices,
    );

    expect(byItem(lines)).toEqual({
      'IoT Core connectivity': 0.0432, // 0.432 M minutes × 0.1
      'IoT Core messaging': 25.92, // 25.92 M × 1
      'IoT rules triggered': 3.888, // 25.92 M × 0.15
      'IoT rule actions': 3.888,
      'Lambda requests': 5.184, // 25.92 M × 0.2
      'Lambda duration': 25.92, // 25.92 M × 0.1 s × 1 GB × 0.00001
      'Timestream writes': 12.96, // 25.92 M KB × 0.5
    });
    expect(totalUsd(lines)).toBeCloseTo(77.8032, 6);
  });

  it('GIVEN 4 readings per message through SQS in batches of 10 THEN rules, sends and invocations fall by the packing', () => {
    const lines = transportCost(
      fleet,
      {
        kind: 'queued',
        readingsPerMessage: 4,
        queue: 'sqs',
        batchSize: 10,
        lambdaMsPerInvocation: 10,
        lambdaMsPerReading: 1,
        lambdaMemoryMb: 512,
      },
      prices,
    );

    // 6.48 M messages of 1,100 B (one 5 KB unit, one 64 KB chunk); 0.648 M invocations of 50 ms.
    expect(byItem(lines)).toEqual({
      'IoT Core connectivity': 0.0432,
      'IoT rules triggered': 0.972,
      'IoT rule actions': 0.972,
      'SQS sends': 2.592,
      'SQS receives and deletes': 0.5184, // 2 × 6.48 M / 10 × 0.4
      'Lambda requests': 0.1296,
      'Lambda duration': 0.162, // 0.648 M × 0.05 s × 0.5 GB × 0.00001
      'Timestream writes': 3.24, // 25.92 M × 256 B = 6.48 M KB × 0.5
    });
  });

  it('GIVEN Kinesis instead of SQS THEN the queue costs one shard and its 25 KB put units', () => {
    const lines = transportCost(
      fleet,
      {
        kind: 'queued',
        readingsPerMessage: 4,
        queue: 'kinesis',
        batchSize: 10,
        lambdaMsPerInvocation: 10,
        lambdaMsPerReading: 1,
        lambdaMemoryMb: 512,
      },
      prices,
    );

    const items = byItem(lines);
    expect(items['Kinesis shard hours']).toBe(10.8); // 720 h × 0.015
    expect(items['Kinesis PUT units']).toBe(0.09072); // 6.48 M × 0.014
    expect(items).not.toHaveProperty('SQS sends');
  });

  it('GIVEN tiered prices THEN each tier bills its own share of the volume', () => {
    const tiers = {
      tiers: [
        { upToMillions: 1000, usdPerMillion: 1 },
        { upToMillions: 5000, usdPerMillion: 0.8 },
        { upToMillions: null, usdPerMillion: 0.7 },
      ],
    };
    expect(tieredCost(tiers, 600)).toBe(600);
    expect(tieredCost(tiers, 6000)).toBeCloseTo(1000 + 4000 * 0.8 + 1000 * 0.7, 9);
  });

  it('refuses a fleet without devices, naming the values', () => {
    expect(() =>
      transportCost(
        { ...fleet, devices: 0 },
        { kind: 'naive', lambdaMsPerMessage: 1, lambdaMemoryMb: 128 },
        prices,
      ),
    ).toThrow('devices and rate must be above 0, got 0 and 1');
  });
});
