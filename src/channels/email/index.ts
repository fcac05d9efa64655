export { createEmailChannel, type RenderedEmail } from './channel.ts';
export { createSmtpTransport } from './transport.ts';
