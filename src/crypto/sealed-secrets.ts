/**
 * The one sealer of credentials at rest, over SecretBox: a location's URL and connection as a task
 * or a bundle import keeps it in its job row, and a webhook's signing secret. Each kind of secret
 * has its own key derived from CREDENTIALS_KEY (a purpose of its own) and is bound to the row that
 * holds it (its job or webhook id), so an envelope copied to another row does not open there.
 * Envelopes sealed before this module existed open unchanged: the purposes and contexts are the same.
 * Built once per process (src/services/index.ts).
 */
import { InvalidParameterError } from '../errors.js';
import { SecretBox, SecretBoxError } from './secret-box.js';

/** What a job keeps of a place it will read or write: the URL to contact and the connection options. */
export interface SealedLocation {
  url: string;
  connection?: Record<string, unknown>;
}

const PURPOSES = {
  location: 'tableport/credentials/v1',
  webhookSecret: 'tableport/webhook-secrets/v1',
} as const;

export class SealedSecrets {
  private readonly boxes = new Map<keyof typeof PURPOSES, SecretBox>();

  /** `credentialsKey`: CREDENTIALS_KEY, else the signing secret. */
  constructor(private readonly credentialsKey: string) {}

  sealLocation(value: SealedLocation, jobId: string): string {
    return this.box('location').seal(value, jobId);
  }

  /** The location a job sealed; a 400 naming `connection` when it no longer opens. */
  openLocation(sealed: string, jobId: string): SealedLocation {
    try {
      return this.box('location').open<SealedLocation>(sealed, jobId);
    } catch (err) {
      if (!(err instanceof SecretBoxError)) throw err;
      throw new InvalidParameterError(
        'connection',
        "The task's connection could not be decrypted (the server's CREDENTIALS_KEY changed); queue the task again.",
      );
    }
  }

  sealWebhookSecret(secret: string, webhookId: string): string {
    return this.box('webhookSecret').seal(secret, webhookId);
  }

  /** The webhook's signing secret; throws SecretBoxError when it no longer opens (CREDENTIALS_KEY changed). */
  openWebhookSecret(sealed: string, webhookId: string): string {
    return this.box('webhookSecret').open<string>(sealed, webhookId);
  }

  /** Made on first use: a key too short to seal with refuses what needs it, not the whole service's start. */
  private box(purpose: keyof typeof PURPOSES): SecretBox {
    let box = this.boxes.get(purpose);
    if (!box) {
      box = new SecretBox(this.credentialsKey, PURPOSES[purpose]);
      this.boxes.set(purpose, box);
    }
    return box;
  }
}
