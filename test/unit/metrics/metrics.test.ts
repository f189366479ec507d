import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Metrics } from '../../../src/metrics/metrics.js';

describe('Metrics', () => {
  test('a queue that never answers (Redis away) leaves queue depth out instead of hanging the scrape', async () => {
    const m = new Metrics();
    m.setQueueSource({
      names: () => ['export', 'email'],
      counts: (queue) =>
        queue === 'export' ? new Promise<Record<string, number>>(() => undefined) : Promise.resolve({ waiting: 3, active: 1 }),
    });
    const text = await m.registry.metrics();
    assert.doesNotMatch(text, /tableport_queue_jobs\{queue="export"/);
    assert.match(text, /tableport_queue_jobs\{queue="email",state="waiting"\} 3/);
    assert.match(text, /tableport_queue_jobs\{queue="email",state="delayed"\} 0/);
  });

  test('a failing queue count is left out too', async () => {
    const m = new Metrics();
    m.setQueueSource({ names: () => ['import'], counts: () => Promise.reject(new Error('Connection is closed.')) });
    assert.doesNotMatch(await m.registry.metrics(), /tableport_queue_jobs\{/);
  });

  test('rows: exports and bundle exports move rows out, imports in, dry runs and failures none', async () => {
    const m = new Metrics();
    const t = new Date(0);
    const end = new Date(2500);
    m.recordJobEnd({ type: 'export', outcome: 'succeeded', rows: 5, dryRun: false, startedAt: t, finishedAt: end });
    m.recordJobEnd({ type: 'bundle_export', outcome: 'succeeded', rows: 2, dryRun: false, startedAt: t, finishedAt: end });
    m.recordJobEnd({ type: 'import', outcome: 'succeeded', rows: 7, dryRun: false, startedAt: t, finishedAt: end });
    m.recordJobEnd({ type: 'bundle_import', outcome: 'succeeded', rows: 1, dryRun: false, startedAt: t, finishedAt: end });
    m.recordJobEnd({ type: 'import', outcome: 'succeeded', rows: 100, dryRun: true, startedAt: t, finishedAt: end });
    m.recordJobEnd({ type: 'import', outcome: 'failed', rows: 0, dryRun: false, startedAt: t, finishedAt: null });
    const text = await m.registry.metrics();
    assert.match(text, /tableport_rows_total\{direction="exported"\} 7\n/);
    assert.match(text, /tableport_rows_total\{direction="imported"\} 8\n/);
    assert.match(text, /tableport_jobs_total\{type="import",outcome="succeeded"\} 2\n/);
    assert.match(text, /tableport_jobs_total\{type="import",outcome="failed"\} 1\n/);
    // A job without an end time has no duration to observe.
    assert.doesNotMatch(text, /tableport_job_duration_seconds_count\{type="import",outcome="failed"\} [1-9]/);
    assert.match(text, /tableport_job_duration_seconds_sum\{type="export",outcome="succeeded"\} 2\.5\n/);
  });

  test('queue wait runs from the job being ready (added plus its delay) to its start', async () => {
    const m = new Metrics();
    m.recordQueueWait('export', { timestamp: 1000, delay: 500, processedOn: 4000 });
    assert.match(await m.registry.metrics(), /tableport_queue_wait_seconds_sum\{queue="export"\} 2\.5\n/);
  });
});
