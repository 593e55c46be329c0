import { describe, expect, it } from 'vitest';
import { canonicalJson, digestOf } from '../../core/audit/audit-event.ts';
import { chainEntry, verifyChain } from '../../core/audit/chain.ts';
import { configurationChanges } from '../../core/audit/configuration.ts';
import { auditReport } from '../../core/audit/report.ts';
import { repoUseCase } from '../support/catalog.ts';
import { repoContracts } from '../support/contracts.ts';

const ROSA = { name: 'rosa', role: 'ml-engineer' } as const;
const useCases = [repoUseCase('pump-maintenance')];
const pumpContracts = repoContracts.all().filter((contract) => contract.id === 'pump.telemetry');

describe('audit digests', () => {
  it('GIVEN the same state built in another key order THEN the digest is the same', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: null }] })).toBe('{"a":[{"c":null,"d":2}],"b":1}');
    expect(digestOf({ a: 1, b: 2 })).toBe(digestOf({ b: 2, a: 1 }));
    expect(digestOf(undefined)).toBeNull();
  });
});

describe('configuration changes', () => {
  it('GIVEN a first start THEN every contract and manifest is applied; GIVEN the same files again THEN nothing; GIVEN a changed manifest THEN it alone, with the digest before', () => {
    const applied = { useCases, contracts: pumpContracts };
    const first = configurationChanges([], applied, ROSA, 1, 'start');
    expect(first.map((e) => e.subject)).toEqual([
      'contract pump.telemetry@1',
      'contract pump.telemetry@2',
      'manifest pump-maintenance',
      'alert policy pump-maintenance',
    ]);
    expect(configurationChanges(first, applied, ROSA, 2, 'start')).toEqual([]);
    const [pumps] = useCases;
    if (!pumps) throw new Error('no manifest');
    const changed = { ...applied, useCases: [{ ...pumps, drift: { ...pumps.drift, everyMinutes: 30 } }] };
    const next = configurationChanges(first, changed, ROSA, 3, 'start');
    expect(next).toEqual([
      expect.objectContaining({ kind: 'manifest-applied', before: first[2]?.after, actor: ROSA }),
    ]);
    // A changed alert policy is named as such, besides the manifest it is in.
    const stricter = {
      ...applied,
      useCases: [{ ...pumps, alerts: { ...pumps.alerts, cooldownSeconds: 1800 } }],
    };
    expect(configurationChanges(first, stricter, ROSA, 4, 'start').map((e) => e.kind)).toEqual([
      'manifest-applied',
      'alert-policy-changed',
    ]);
  });
});

describe('audit report', () => {
  it('GIVEN a period THEN the evidence holds only its entries, the chain state and counts by person', () => {
    const events = configurationChanges([], { useCases, contracts: pumpContracts }, ROSA, 1000, 'start');
    const entries = events.reduce<ReturnType<typeof chainEntry>[]>(
      (chain, e) => [...chain, chainEntry(chain.at(-1), { ...e, at: 1000 * (chain.length + 1) })],
      [],
    );
    const verdict = verifyChain(
      entries.map((entry, i) => ({ line: i + 1, entry })),
      undefined,
    );
    const { evidence, markdown } = auditReport(entries, verdict, { from: 1500, to: 3500, now: 4000 });
    expect(evidence.entries.map((e) => e.seq)).toEqual([2, 3]);
    expect(evidence.chain).toMatchObject({ intact: true, entries: 4, head: { seq: 4 } });
    expect(evidence.counts.byActor).toEqual([{ actor: 'rosa', role: 'ml-engineer', changes: 2 }]);
    expect(markdown).toContain('The hash chain is intact: 4 entries');
    expect(markdown).toContain('| rosa | ml-engineer | 2 |');
  });
});
