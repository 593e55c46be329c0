import { describe, expect, it } from 'vitest';
import { contractsFromEnv, deploymentFromEnv } from '../../lambdas/shared/deployment.ts';
import { compiledUseCases } from '../../lib/use-case-config.ts';
import { loadCatalog } from '../../usecases/catalog.ts';

/** The environment a bundle sees once esbuild has replaced its defines. */
function envOf(define: Record<string, string>): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(define).map(([key, value]) => [
      key.replace('process.env.', ''),
      JSON.parse(value) as string,
    ]),
  );
}

describe('the configuration compiled into a function', () => {
  it('GIVEN the catalog compiled by a construct THEN the function reads back the same use cases and the contracts they accept', () => {
    const { useCases, contracts } = loadCatalog();
    const deployment = deploymentFromEnv(envOf(compiledUseCases(useCases, contracts)));
    expect(deployment.manifests).toEqual(useCases);
    // Every contract a use case accepts, and no other.
    expect(deployment.contracts.refs).toEqual(['hvac.telemetry@1', 'pump.telemetry@1', 'pump.telemetry@2']);
    expect(deployment.contracts.get('pump.telemetry@2').measures).toEqual(
      contracts.get('pump.telemetry@2').measures,
    );
  });

  it('GIVEN a bundle built without its contracts THEN the first call names what is missing', () => {
    expect(() => contractsFromEnv({})).toThrow(/AIOT_CONTRACTS/);
    expect(() => contractsFromEnv({ AIOT_CONTRACTS: '[{"id":"x"}]' })).toThrow(
      /AIOT_CONTRACTS\[0\] is not a valid data contract/,
    );
  });
});
