import type { Config } from '../config.js';
import type { JobsRepository } from '../db/repositories/jobs.repository.js';
import type { UsersRepository } from '../db/repositories/users.repository.js';
import type { Logger } from '../logger.js';
import type { Mailer } from '../mail/mailer.js';
import { metrics } from '../metrics/metrics.js';
import { renderJobMail } from '../mail/render-job-mail.js';
import type { JobsService } from './jobs/jobs.service.js';

/**
 * Sends the one mail a finished job owes its user. Idempotent: a mail already sent is not sent again.
 * `outbox` is where a mail goes when SMTP stayed down past the last attempt (none when the
 * primary mailer is the outbox already).
 */
export class JobMailService {
  constructor(
    private readonly config: Config,
    private readonly jobsRepo: JobsRepository,
    private readonly jobs: JobsService,
    private readonly users: UsersRepository,
    private readonly mailer: Mailer,
    private readonly logger: Logger,
    private readonly outbox?: Mailer,
  ) {}

  async sendFor(jobId: string, opts: { via?: 'outbox' } = {}): Promise<'sent' | 'skipped'> {
    const mailer = opts.via === 'outbox' ? this.outbox : this.mailer;
    if (!mailer) return 'skipped';
    const job = await this.jobsRepo.get(jobId, null);
    if (!job || job.mail_sent_at || (job.status !== 'succeeded' && job.status !== 'failed')) return 'skipped';
    // An import may ask for no mail (a dry run checked from a script, say).
    if ((job.params as { email?: boolean }).email === false) {
      await this.jobsRepo.markMailSent(job.id);
      return 'skipped';
    }
    const user = await this.users.get(job.user_id);
    if (!user) return 'skipped';
    const link = this.jobs.fileLink(job);
    const mail = renderJobMail({
      locale: user.locale,
      userName: user.name,
      tableName: job.table_name,
      tableId: job.table_id,
      jobId: job.id,
      type: job.type,
      outcome: job.status,
      rows: job.rows,
      fileType: job.file_type ?? undefined,
      fileName: job.file_name ?? undefined,
      downloadUrl: link?.url,
      expiresAt: link?.expiresAt,
      errors: job.errors,
      errorCount: job.error_count,
      publicUrl: this.config.publicUrl,
      dryRun: (job.params as { dry_run?: boolean }).dry_run === true,
      location: job.destination_url ?? job.source_url,
    });
    let sent: Awaited<ReturnType<Mailer['send']>>;
    try {
      sent = await mailer.send({ to: user.email, ...mail });
    } catch (err) {
      metrics().mails.inc({ outcome: 'failed' });
      throw err;
    }
    metrics().mails.inc({ outcome: 'sent' });
    await this.jobsRepo.markMailSent(job.id, opts.via === 'outbox' ? 'outbox' : 'sent');
    this.logger.info({ jobId, to: user.email, messageId: sent.messageId, path: sent.path, via: opts.via ?? 'mailer' }, 'job mail sent');
    return 'sent';
  }
}
