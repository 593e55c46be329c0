import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import { loadUseCases } from '../../usecases/catalog.ts';

/** One use case of the repository's catalog, by id: tests name the one they are about. */
export function repoUseCase(id: 'pump-maintenance' | 'hvac-energy'): UseCaseManifest {
  const found = loadUseCases().find((useCase) => useCase.id === id);
  if (!found) throw new Error(`the repository has no use case "${id}"`);
  return found;
}
