export {
  assertHeaderSafe,
  createEmailChannel,
  type EmailChannelOptions,
  type Mailbox,
  type RenderedEmail,
} from './channel.ts';
export { classifySmtpError, CONNECTION_LOST_AFTER_DATA, type SmtpProgress } from './classify.ts';
export { createSmtpTransport, type SmtpTransportOptions } from './transport.ts';
