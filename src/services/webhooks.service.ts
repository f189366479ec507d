/**
 * Webhooks: a user's URLs told when one of their jobs ends. Each delivery is its own queue job
 * (see JobName.DeliverWebhook), queued by the lifecycle next to the mail, retried with backoff.
 * The body is the job as `GET /jobs/:id` shows it plus `event`; with a secret, it is signed:
 * `X-Tableport-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>`. Every connection goes
 * through the outbound guard (checked at registration, and pinned again at each delivery, since a
 * name may resolve elsewhere later); the secret is stored sealed and never shown again.
 */
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Config } from '../config.js';
import type { SealedSecrets } from '../crypto/sealed-secrets.js';
import type { JobRecord, JobsRepository } from '../db/repositories/jobs.repository.js';
import type { DeliveryRecord, WebhookRecord, WebhooksRepository } from '../db/repositories/webhooks.repository.js';
import { InvalidParameterError, NotFoundError } from '../errors.js';
import type { JobQueues } from '../jobs/queues.js';
import { Deadline, hostPort } from '../net/outbound-deadline.js';
import { portOf, type OutboundGuard } from '../net/outbound-guard.js';
import { displayUrl } from '../net/guarded-get.js';
import type { Page, Webhook, WebhookDelivery, WebhookEvent } from '../types/api.js';
import type { JobsService } from './jobs/jobs.service.js';
import { pageMeta, type PageQuery } from './paging.js';
import type { WebhookCreateRequest } from '../contracts/webhooks.js';

/** A delivery the receiver did not take (an error status, no answer, a refused address): BullMQ retries it. */
export class WebhookDeliveryError extends Error {
  override name = 'WebhookDeliveryError';
}

/** Webhooks per user: each ended job costs one request per webhook. */
export const MAX_WEBHOOKS_PER_USER = 20;

const secs = (d: Date) => Math.floor(d.getTime() / 1000);

export interface WebhooksDeps {
  config: Config;
  webhooks: WebhooksRepository;
  jobs: JobsRepository;
  jobsView: JobsService;
  queues: JobQueues;
  /** The process's one outbound guard (the location context's): it holds the allow-list. */
  guard: OutboundGuard;
  /** The process's one sealer of credentials at rest. */
  secrets: SealedSecrets;
}

export class WebhooksService {
  private readonly guard: OutboundGuard;
  private readonly agents: { 'http:': http.Agent; 'https:': http.Agent };

  constructor(private readonly d: WebhooksDeps) {
    this.guard = d.guard;
    this.agents = { 'http:': this.guard.agent('http:'), 'https:': this.guard.agent('https:') };
  }

  toWebhook(w: WebhookRecord): Webhook {
    return { id: w.id, url: w.url, events: w.events, has_secret: w.secret !== null, created_at: secs(w.created_at) };
  }

  async create(userId: number, p: WebhookCreateRequest): Promise<Webhook> {
    const url = new URL(p.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new InvalidParameterError('url', 'Invalid parameter "url": must be an http:// or https:// URL.');
    // Refused addresses (loopback, private, link-local, metadata) answer 400 invalid_parameter now, not at the first delivery.
    await this.guard.checkUrl(url);
    if ((await this.d.webhooks.list(userId)).length >= MAX_WEBHOOKS_PER_USER) {
      throw new InvalidParameterError(
        'url',
        `You have ${MAX_WEBHOOKS_PER_USER} webhooks already, the most one user may have; delete one first.`,
      );
    }
    const id = randomUUID();
    const events = [...new Set(p.events)];
    const secret = p.secret === undefined ? null : this.d.secrets.sealWebhookSecret(p.secret, id);
    return this.toWebhook(await this.d.webhooks.insert({ id, user_id: userId, url: url.href, events, secret }));
  }

  async list(userId: number): Promise<{ objects: Webhook[] }> {
    return { objects: (await this.d.webhooks.list(userId)).map((w) => this.toWebhook(w)) };
  }

  async remove(userId: number, id: string): Promise<void> {
    if (!(await this.d.webhooks.delete(id, userId))) throw new NotFoundError(`Webhook ${id} was not found.`);
  }

  async deliveries(userId: number, id: string, q: PageQuery, path: string): Promise<Page<WebhookDelivery>> {
    const hook = await this.d.webhooks.get(id, userId);
    if (!hook) throw new NotFoundError(`Webhook ${id} was not found.`);
    const { total, rows } = await this.d.webhooks.deliveries(hook.id, q.limit, q.offset);
    return { meta: pageMeta(path, q, total), objects: rows.map(toDelivery) };
  }

  /** Queues one delivery per webhook of the job's user that asked for this end. Safe to call again. */
  async enqueueFor(job: JobRecord): Promise<void> {
    if (job.status !== 'succeeded' && job.status !== 'failed') return;
    for (const hook of await this.d.webhooks.forEvent(job.user_id, `job.${job.status}`)) {
      await this.d.queues.addDelivery({ jobId: job.id, webhookId: hook.id });
    }
  }

  /** One attempt: POSTs the event, logs it, and throws WebhookDeliveryError when the receiver did not take it. */
  async deliver(webhookId: string, jobId: string, attempt: number): Promise<void> {
    const hook = await this.d.webhooks.get(webhookId, null);
    const job = await this.d.jobs.get(jobId, null);
    // Deleted since (the webhook or the job's user): nothing to send.
    if (!hook || !job || (job.status !== 'succeeded' && job.status !== 'failed')) return;
    const event: WebhookEvent = `job.${job.status}`;
    const body = JSON.stringify({ event, ...this.d.jobsView.toJob(job) });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'user-agent': 'tableport-webhook',
      'x-tableport-event': event,
      'x-tableport-delivery': `${webhookId}.${jobId}`,
    };
    let status: number | null = null;
    let error: string | null = null;
    try {
      // Inside the try: a secret that no longer opens (CREDENTIALS_KEY changed) shows in the log.
      if (hook.secret) {
        const secret = this.d.secrets.openWebhookSecret(hook.secret, hook.id);
        headers['x-tableport-signature'] = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
      }
      status = await this.post(new URL(hook.url), headers, body);
      if (status < 200 || status > 299) error = `the receiver answered HTTP ${status}`;
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    await this.d.webhooks.logDelivery({ webhook_id: hook.id, job_id: jobId, event, attempt, http_status: status, error });
    if (error) throw new WebhookDeliveryError(`Webhook ${displayUrl(new URL(hook.url))}: ${error}`);
  }

  /**
   * One POST; resolves with the answer's status. A receiver has OUTBOUND_TIMEOUT_MS for the whole
   * exchange (connect, take the body, answer), however it spends it: a delivery is a few KB, and a
   * receiver that answers byte by byte must not hold a webhook worker for longer.
   */
  private async post(url: URL, headers: Record<string, string>, body: string): Promise<number> {
    const agent = url.protocol === 'https:' ? this.agents['https:'] : this.agents['http:'];
    const lib = url.protocol === 'https:' ? https : http;
    const deadline = new Deadline(hostPort(url.hostname, portOf(url)), this.d.config.locations.outboundTimeoutMs);
    try {
      return await deadline.race(
        new Promise<number>((resolve, reject) => {
          const req = lib.request(url, { method: 'POST', agent, headers, signal: deadline.signal }, (res) => {
            // The status is the answer; its body does not matter and may never end.
            resolve(res.statusCode ?? 0);
            res.destroy();
          });
          req.on('error', reject);
          req.end(body);
        }),
      );
    } finally {
      deadline.end();
    }
  }
}

function toDelivery(r: DeliveryRecord): WebhookDelivery {
  return {
    id: Number(r.id),
    event: r.event,
    job_id: r.job_id,
    attempt: r.attempt,
    http_status: r.http_status,
    error: r.error,
    created_at: secs(r.created_at),
  };
}

/** For the lifecycle: the part of the webhooks it needs when a job ends. */
export type WebhookNotifier = Pick<WebhooksService, 'enqueueFor'>;
