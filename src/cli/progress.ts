/**
 * Shows a job's progress while `--wait` polls it: a live bar when stdout and stderr are both a
 * terminal, and otherwise one plain line per change of status or progress, on stderr so stdout
 * keeps only the result.
 */
import cliProgress from 'cli-progress';
import type { Job } from '../sdk/index.js';

export interface ProgressReporter {
  update(job: Job): void;
  stop(): void;
}

export function progressReporter(
  jobId: string,
  stream: NodeJS.WriteStream = process.stderr,
  tty = Boolean(process.stdout.isTTY && stream.isTTY),
): ProgressReporter {
  if (!tty) {
    return {
      update(job) {
        stream.write(`job ${job.id}: ${job.status}${job.status === 'running' ? ` ${job.progress}%` : ''}\n`);
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${jobId} |{bar}| {percentage}% | {status}`,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(job) {
      if (!started) {
        bar.start(100, job.progress, { status: job.status });
        started = true;
      } else {
        bar.update(job.status === 'succeeded' ? 100 : job.progress, { status: job.status });
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
