/** A request named a use case this deployment or runtime does not have. */
export class UnknownUseCase extends Error {
  override readonly name = 'UnknownUseCase';

  constructor(useCase: string, known: readonly string[]) {
    super(`unknown use case "${useCase}" (${known.join(', ')})`);
  }
}
