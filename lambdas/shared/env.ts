/** Reads a required environment variable, naming it when it is missing. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new Error(`Environment variable ${name} is not set; the CDK construct sets it on deploy.`);
  }
  return value;
}

/**
 * The function's environment with the manifests and contracts the bundler compiled in: esbuild
 * replaces the literal `process.env.AIOT_USE_CASES` and `process.env.AIOT_CONTRACTS` (the
 * construct's `define`), which a spread of `process.env` alone would not carry.
 */
export function bundledEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AIOT_USE_CASES: process.env.AIOT_USE_CASES,
    AIOT_CONTRACTS: process.env.AIOT_CONTRACTS,
  };
}
