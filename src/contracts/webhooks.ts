/** `POST /webhooks`: where to deliver, which job events, and the secret that signs each delivery. */
import { z } from 'zod';
import type { WebhookEvent } from '../types/api.js';

export const WEBHOOK_EVENTS = ['job.succeeded', 'job.failed'] as const satisfies readonly WebhookEvent[];

export const WebhookCreateSchema = z.object({
  url: z.string().max(2000, 'must be at most 2000 characters').url('must be an http:// or https:// URL'),
  events: z.array(z.enum(WEBHOOK_EVENTS, { error: `must be one of ${WEBHOOK_EVENTS.join(', ')}` })).min(1, 'name at least one event'),
  secret: z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters').optional(),
});
export type WebhookCreateRequest = z.infer<typeof WebhookCreateSchema>;
