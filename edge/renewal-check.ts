import type { MqttClient } from 'mqtt';
import type { CertificateRenewal } from './agent-options.ts';

/** The certificate and key a connection uses. */
export interface Credentials {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

/**
 * When and how an agent renews its certificate over its own connection: when it is due, at most
 * once per check interval (a certificate issued with less life than the renewal margin is not
 * renewed at every connection), and the confirmation once connected with the new one.
 */
export class RenewalCheck {
  private renewing = false;
  private lastRenewal = 0;

  constructor(
    private readonly renewal: CertificateRenewal,
    private readonly checkMs: number,
    private readonly log: (level: 'info' | 'warn', message: string) => void,
    /** Takes the new certificate and reconnects with it; unacknowledged readings are sent again. */
    private readonly onRenewed: (credentials: Credentials, client: MqttClient) => void,
  ) {}

  /** Renews over `client` when the certificate is due. */
  renewIfDue(client: MqttClient, now = Date.now()): void {
    if (this.renewing || now - this.lastRenewal < this.checkMs) return;
    let dueAt: number;
    try {
      dueAt = this.renewal.dueAt();
    } catch (error) {
      this.log(
        'warn',
        `cannot tell when the certificate is due: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    if (now < dueAt) return;
    this.renewing = true;
    this.lastRenewal = now;
    this.log('info', 'certificate due for renewal: asking for a new one');
    this.renewal.renew(client).then(
      (credentials) => {
        this.renewing = false;
        this.log('info', 'certificate renewed: reconnecting with it');
        this.onRenewed(credentials, client);
      },
      (error: unknown) => {
        this.renewing = false;
        this.log(
          'warn',
          `certificate renewal failed (the current one stays in use; next try within ${(this.checkMs / 60_000).toFixed(0)} min): ${error instanceof Error ? error.message : String(error)}`,
        );
      },
    );
  }

  /** Connected with a renewed certificate: say so, and the cloud retires the old one. */
  confirm(client: MqttClient): void {
    const pending = this.renewal.pendingConfirmation();
    if (!pending) return;
    client.publish(pending.topic, pending.payload, { qos: 1 }, (error) => {
      if (error) return; // said again at the next connection
      this.renewal.confirmed();
      this.log('info', 'connected with the renewed certificate: the old one is retired');
    });
  }
}
