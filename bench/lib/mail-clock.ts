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
    for (; this.seen < this.smtp.messages.length; this.seen++) this.arrivals.set(this.smtp.messages[this.seen]!, now);
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
      if (m) return this.arrivals.get(m)!;
      await sleep(10);
    }
    return null;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
