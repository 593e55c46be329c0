import { FileProblemsError } from '../../core/documents/yaml-file.ts';

/**
 * The problem lines of the error `parse` throws for a refused file, one per problem. Fails when
 * `parse` accepts the file, so a test of a refusal cannot pass on an accepted file.
 */
export function fileProblems(parse: () => unknown): string[] {
  try {
    parse();
  } catch (error) {
    if (error instanceof FileProblemsError)
      return error.message
        .split('\n')
        .slice(1)
        .map((line) => line.trim());
    throw error;
  }
  throw new Error('expected the file to be refused, but it was accepted');
}
