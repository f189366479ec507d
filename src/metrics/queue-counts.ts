import type { QueueHandle } from '../queue/index.js';
import { QUEUE_STATES, type QueueCountsSource } from './metrics.js';

/** Queue depth straight from BullMQ, read on each scrape. */
export function bullQueueCounts(queues: Record<string, QueueHandle>): QueueCountsSource {
  return {
    names: () => Object.keys(queues),
    counts: async (name) => {
      const q = queues[name];
      return q ? q.getJobCounts(...QUEUE_STATES) : {};
    },
  };
}
