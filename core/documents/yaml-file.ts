import { isNode, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { formatPath } from '../contracts/reasons.ts';

/** One thing wrong with a file people write (a manifest, a contract), where it can be found in the file. */
export interface FileProblem {
  readonly path: string;
  readonly message: string;
  /** 1-based line and column in the file, where the path could be found in it. */
  readonly line?: number;
  readonly column?: number;
}

/** Every problem of one file at once, each as `file:line:column path: message`, so all are fixed in one pass. */
export class FileProblemsError extends Error {
  constructor(
    readonly file: string,
    /** What the file should have been, e.g. "use-case manifest". */
    readonly kind: string,
    readonly problems: readonly FileProblem[],
  ) {
    super(
      `${file} is not a valid ${kind}:\n` +
        problems
          .map(
            (p) =>
              `  ${file}${p.line ? `:${p.line}:${p.column ?? 1}` : ''} ${p.path || '(root)'}: ${p.message}`,
          )
          .join('\n'),
    );
    this.name = 'FileProblemsError';
  }
}

export type DocumentPath = readonly (string | number)[];

export interface RawProblem {
  readonly path: DocumentPath;
  readonly message: string;
}

function locate(
  doc: Document,
  text: string,
  path: DocumentPath,
): { line: number; column: number } | undefined {
  // Walk up until a node exists: a missing key is reported at its parent.
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) {
      const before = text.slice(0, node.range[0]);
      const line = before.split('\n').length;
      return { line, column: node.range[0] - before.lastIndexOf('\n') };
    }
  }
  return undefined;
}

/**
 * Parses YAML text against a schema and the checks a schema cannot express, and throws every
 * problem found (made into the caller's error type) with its line and column. Reading the file
 * is the caller's job, so core stays free of I/O.
 */
export function parseYamlFile<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  crossCheck: (value: z.output<S>) => RawProblem[],
  fail: (problems: FileProblem[]) => Error,
): z.output<S> {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw fail(
      doc.errors.map((error) => ({
        path: '',
        message: `YAML syntax: ${error.message.split('\n')[0] ?? error.code}`,
        line: error.linePos?.[0].line,
        column: error.linePos?.[0].col,
      })),
    );
  }
  const toProblem = ({ path, message }: RawProblem): FileProblem => ({
    path: formatPath(path),
    message,
    ...locate(doc, text, path),
  });
  const parsed = schema.safeParse(doc.toJS());
  if (!parsed.success) {
    throw fail(
      parsed.error.issues.map((issue) =>
        toProblem({ path: issue.path.filter((key) => typeof key !== 'symbol'), message: issue.message }),
      ),
    );
  }
  const problems = crossCheck(parsed.data);
  if (problems.length > 0) throw fail(problems.map(toProblem));
  return parsed.data;
}

/** The stem of a file name: `contracts/pump.telemetry.v1.yaml` -> `pump.telemetry.v1`. */
export function yamlFileStem(file: string): string {
  return (file.split(/[\\/]/).pop() ?? file).replace(/\.ya?ml$/, '');
}
