import { bytesToBase64 } from '../ingest/base64.ts';

/** DER bytes as a PEM block of `label` (PRIVATE KEY, CERTIFICATE REQUEST, ...), 64 characters a line. */
export function pemOf(label: string, der: ArrayBuffer | Uint8Array): string {
  const lines = bytesToBase64(der instanceof Uint8Array ? der : new Uint8Array(der)).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * The key every device and the local CA make: ECDSA on P-256, which IoT Core accepts for device
 * certificates and which a small device signs with quickly.
 */
export const DEVICE_KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
