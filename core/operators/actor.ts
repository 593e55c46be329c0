import { z } from 'zod';

/**
 * Who may do what. Operators answer alerts; engineers also change what the system considers normal
 * (re-baselines, silences); analysts and auditors read. `system` is the pipeline itself.
 */
export const ROLES = [
  'operator',
  'reliability-engineer',
  'ml-engineer',
  'analyst',
  'auditor',
  'system',
] as const;

export type Role = (typeof ROLES)[number];

export const actorSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[\p{L}\p{N}._@+-]+( [\p{L}\p{N}._@+-]+)*$/u, 'letters, digits, . _ @ + - and single spaces'),
  role: z.enum(ROLES),
});

/** Who made a decision, with which role: every change of state records one. */
export type Actor = z.output<typeof actorSchema>;

export const SYSTEM: Actor = { name: 'aiot-pipeline', role: 'system' };

export type Permission =
  'answer-alerts' | 'rebaseline' | 'silence' | 'manage-models' | 'accept-recommendations' | 'read';

const PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  operator: ['answer-alerts', 'read'],
  // Schedules and setpoints are the plant's to change: reliability engineers accept them.
  'reliability-engineer': [
    'answer-alerts',
    'rebaseline',
    'silence',
    'manage-models',
    'accept-recommendations',
    'read',
  ],
  'ml-engineer': ['answer-alerts', 'rebaseline', 'silence', 'manage-models', 'read'],
  analyst: ['read'],
  auditor: ['read'],
  system: ['answer-alerts', 'rebaseline', 'silence', 'manage-models', 'accept-recommendations', 'read'],
};

export class PermissionDenied extends Error {
  override readonly name = 'PermissionDenied';
}

/** What a role may do. */
export function permissionsOf(role: Role): readonly Permission[] {
  return PERMISSIONS[role];
}

/** Throws PermissionDenied naming the role and what it may not do. */
export function requirePermission(actor: Actor, permission: Permission): void {
  if (!PERMISSIONS[actor.role].includes(permission)) {
    const allowed = ROLES.filter((role) => role !== 'system' && PERMISSIONS[role].includes(permission));
    throw new PermissionDenied(
      `${actor.name} (${actor.role}) may not ${permission.replace('-', ' ')}; roles that may: ${allowed.join(', ')}`,
    );
  }
}

/**
 * The identity provider's group of each role people can hold (Cognito groups in the cloud). Ordered
 * most capable first: someone in several groups acts in the first one's role.
 */
export const ROLE_GROUPS: readonly (readonly [group: string, role: Exclude<Role, 'system'>])[] = [
  ['reliability-engineers', 'reliability-engineer'],
  ['ml-engineers', 'ml-engineer'],
  ['operators', 'operator'],
  ['analysts', 'analyst'],
  ['auditors', 'auditor'],
];
