/**
 * When each mail reached the in-process SMTP server. The test helper keeps the messages but not
 * their arrival times, so new ones are stamped by a 10 ms poll of its list.
 */
import type { CapturedMessage, SmtpCapture } from '../../test/helpers/smtp.js';
import { sleep } from './service.js';

export class MailClock {
  private readonly arrivals = new Map<CapturedMessage, number>();
  private seen = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly smtp: SmtpCapture) {
    this.timer = setInterval(() => this.stamp(), 10);
    this.timer.unref();
  }

  private stamp(): void {
    const now = Date.now();
    for (const m of this.smtp.messages.slice(this.seen)) this.arrivals.set(m, now);
    this.seen = this.smtp.messages.length;
  }

  get count(): number {
    return this.smtp.messages.length;
  }

  /** Date.now() when the mail naming this job arrived, or null if none came within the timeout. */
  async arrivalOf(jobId: string, timeoutMs = 15_000): Promise<number | null> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      this.stamp();
      const m = this.smtp.messages.find((x) => x.text.includes(jobId));
      // stamp() has just timed every message, this one included.
      if (m) return this.arrivals.get(m) ?? Date.now();
      await sleep(10);
    }
    return null;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
