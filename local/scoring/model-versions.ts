import { comparisonSummary } from '../../core/model/comparison-summary.ts';
import type { ModelVersions, ModelVersionView } from '../../core/operators/ports.ts';
import { FileModelRegistry } from './model-registry.ts';

/** The use-case page's model versions from the data folder's registries (./model-registry.ts). */
export class LocalModelVersions implements ModelVersions {
  constructor(private readonly dataDir: string) {}

  list(useCase: string, limit: number): Promise<ModelVersionView[]> {
    const registry = FileModelRegistry.inDataDir(this.dataDir, useCase).read();
    return Promise.resolve(
      [...registry.versions]
        .sort((a, b) => b.trainedAt - a.trainedAt)
        .slice(0, limit)
        .map((v) => ({
          version: v.version,
          status: v.version === registry.live ? 'live' : v.status,
          trainedBy: `${v.trainedBy.name} (${v.trainedBy.role})`,
          trainedAt: v.trainedAt,
          about: v.trainingData,
          metrics: v.metrics,
          comparison: comparisonSummary(v.metrics),
        })),
    );
  }
}
