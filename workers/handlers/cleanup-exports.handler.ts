import type { Job } from 'bullmq';
import type { WorkerContext } from './worker-context.js';

/** Repeating job: export files, and their folders, stay only as long as their links work; old tombstones go. */
export async function cleanupExports(ctx: WorkerContext, _job: Job<Record<string, never>>): Promise<void> {
  const removed = await ctx.services.lifecycle.removeExpiredExports();
  if (removed) ctx.logger.info({ removed }, 'expired export files removed');
  const tombstones = await ctx.services.schedules.pruneTombstones();
  if (tombstones) ctx.logger.info({ tombstones }, 'old tombstones of deleted rows removed');
}
