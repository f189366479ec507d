export { createMailer, isPermanentMailError, type Mailer, type MailerOptions, type MailMessage, type SentMail } from './mailer.js';
export {
  MAIL_ERROR_LIMIT,
  renderJobMail,
  resolveLocale,
  type JobMailInput,
  type MailLocale,
  type RenderedMail,
} from './render-job-mail.js';
