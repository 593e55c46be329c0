import type * as tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { peerIdentityOf } from '../../local/broker/broker.ts';

/** A TLS socket as the broker sees it when it authenticates a CONNECT. */
const socket = (authorized: boolean, peer: Partial<tls.PeerCertificate> | null) =>
  ({ authorized, getPeerCertificate: () => peer }) as unknown as tls.TLSSocket;

describe('who the local broker takes a client to be', () => {
  it('GIVEN a verified certificate THEN its common name and fingerprint', () => {
    expect(peerIdentityOf(socket(true, { subject: { CN: 'pump-001' }, fingerprint256: 'AB:CD' }))).toEqual({
      commonName: 'pump-001',
      fingerprint: 'AB:CD',
    });
  });

  it('GIVEN a socket closed before its CONNECT is authenticated (Node answers null) THEN nobody, so it is refused, not a crash', () => {
    // 1,000 agents connecting at once crashed the runtime here: getPeerCertificate() answered null.
    expect(peerIdentityOf(socket(true, null))).toBeUndefined();
  });

  it('GIVEN an unverified certificate or one without a common name THEN nobody', () => {
    expect(peerIdentityOf(socket(false, { subject: { CN: 'pump-001' } }))).toBeUndefined();
    expect(peerIdentityOf(socket(true, { subject: {}, fingerprint256: 'AB' }))).toBeUndefined();
  });
});
