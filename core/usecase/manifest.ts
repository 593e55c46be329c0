import type { ContractRegistry } from '../contracts/registry.ts';
import { FileProblemsError, parseYamlFile, yamlFileStem, type FileProblem } from '../documents/yaml-file.ts';
import { crossCheck } from './manifest-checks.ts';
import { manifestSchema, type UseCaseManifest } from './manifest-schema.ts';

export {
  acceptedContractRefs,
  alertInferenceOf,
  manifestSchema,
  type UseCaseManifest,
} from './manifest-schema.ts';

export type ManifestProblem = FileProblem;

export class ManifestError extends FileProblemsError {
  constructor(file: string, problems: readonly ManifestProblem[]) {
    super(file, 'use-case manifest', problems);
    this.name = 'ManifestError';
  }
}

/**
 * Parses and validates one manifest against the deployment's contracts. `file` is only used in
 * messages and to check the id; reading the file is the caller's job, so core stays free of I/O.
 */
export function parseManifest(text: string, file: string, contracts: ContractRegistry): UseCaseManifest {
  return parseYamlFile(
    text,
    file,
    manifestSchema,
    (manifest) => crossCheck(manifest, yamlFileStem(file), contracts),
    (problems) => new ManifestError(file, problems),
  );
}

/**
 * The manifest as a plain document again (KPI targets back to their text): what a deployment
 * compiles into a function, and what parses back to the same manifest.
 */
export function manifestDocument(manifest: UseCaseManifest): unknown {
  return { ...manifest, kpis: manifest.kpis.map((kpi) => ({ ...kpi, target: kpi.target.text })) };
}

/** Parses a document made by manifestDocument (JSON is YAML), with every check of a manifest file. */
export function parseManifestDocument(
  document: unknown,
  origin: string,
  contracts: ContractRegistry,
): UseCaseManifest {
  const id =
    typeof document === 'object' && document !== null && 'id' in document && typeof document.id === 'string'
      ? document.id
      : origin;
  return parseManifest(JSON.stringify(document), `${id}.yaml`, contracts);
}
