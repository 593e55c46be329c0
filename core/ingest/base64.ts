// Web-standard atob/btoa keep core free of Node's Buffer. Both loops are plain index loops:
// spreading bytes into arguments or mapping through Uint8Array.from cost a third of the local
// runtime's ingest time (docs/benchmarks.md).
const CHUNK = 0x2000;

export function bytesToBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += CHUNK) {
    parts.push(
      String.fromCharCode.apply(null, bytes.subarray(offset, offset + CHUNK) as unknown as number[]),
    );
  }
  return btoa(parts.join(''));
}

export function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
