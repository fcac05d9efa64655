import { randomUUID } from 'node:crypto';
import type { SendMailOptions, Transporter } from 'nodemailer';
import { z } from 'zod';
import { ConcordError } from '../../errors.ts';
import { defaultTemplates, type TemplateRenderer } from '../templates.ts';
import type { MessageChannel, SendContext, SendOutcome } from '../types.ts';
import { offerView } from '../view.ts';
import { classifySmtpError } from './classify.ts';

/** A mailbox: an address and an optional display name. */
export interface Mailbox {
  readonly address: string;
  readonly name?: string;
}

/** One offer as an email, ready to hand to the transport; plain data, so it can be inspected. */
export interface RenderedEmail {
  readonly from: Mailbox;
  readonly to: Mailbox;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  /** `<offerId.email.version@messageIdDomain>`, angle brackets included. */
  readonly messageId: string;
  /** `X-Concord-Offer`, `List-Unsubscribe` and `List-Unsubscribe-Post`. */
  readonly headers: Readonly<Record<string, string>>;
}

/** What the email channel needs; the transport is the caller's (see {@link createSmtpTransport}). */
export interface EmailChannelOptions {
  readonly transport: Transporter;
  /** The sender: an address, or an address with a display name. */
  readonly from: string | Mailbox;
  /** The right-hand side of every Message-ID, e.g. `mail.example.com`. */
  readonly messageIdDomain: string;
  /** Templates to render with (default: the package's `templates/`). */
  readonly templates?: TemplateRenderer;
}

const emailSchema = z.email();
const domainSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.?)*[A-Za-z0-9]$/,
    'expected a domain name, e.g. mail.example.com',
  );

/** The property of a message's data that names the send it belongs to (see the stream plugin). */
const SEND_ID = 'concordSendId';

interface SendProgress {
  reachedTransport: boolean;
  bodySent: boolean;
}

/**
 * Throws `invalid_input` when a header value or address holds CR or LF: such a value could end
 * its header early and smuggle in headers (or a body) of its own.
 */
export function assertHeaderSafe(header: string, value: string): void {
  if (/[\r\n]/.test(value)) {
    throw new ConcordError('invalid_input', `email header ${header} must not contain CR or LF`, {
      details: { header },
    });
  }
}

/**
 * The email channel: renders an offer from `templates/email` (subject = title, HTML and text
 * parts) with `Message-ID`, `X-Concord-Offer` and RFC 8058 one-click `List-Unsubscribe` headers,
 * and sends it through the given nodemailer transport.
 *
 * `render` throws `invalid_input` for a header value or address with CR or LF, or an address that
 * is not one. `send` never throws: an SMTP reply maps to transient (4xx) or permanent (5xx), a
 * connection lost before the body went out to transient, and one lost after it to `unknown`
 * (the server may have the message; email has no idempotency to make a resend safe). An email
 * cannot be unsent, so there is no `retract`. `close` closes the transport.
 *
 * To tell "before" from "after the body", the channel registers a `stream` plugin on the
 * transport that watches each message's stream; nodemailer's errors alone are the same for a
 * connection lost during MAIL FROM and one lost after the final dot.
 */
export function createEmailChannel(options: EmailChannelOptions): MessageChannel<RenderedEmail> {
  const { transport } = options;
  const templates = options.templates ?? defaultTemplates();
  const from = senderMailbox(options.from);
  const domain = domainSchema.safeParse(options.messageIdDomain);
  if (!domain.success) {
    throw new ConcordError(
      'invalid_config',
      `messageIdDomain: ${domain.error.issues[0]?.message ?? 'invalid'}`,
    );
  }
  const messageIdDomain = domain.data;

  const inFlight = new Map<string, SendProgress>();
  transport.use('stream', (mail, done) => {
    const sendId = (mail.data as Record<string, unknown>)[SEND_ID];
    const progress = typeof sendId === 'string' ? inFlight.get(sendId) : undefined;
    if (progress) {
      progress.reachedTransport = true;
      const message = mail.message;
      const createReadStream = message.createReadStream.bind(message);
      // The SMTP connection pipes this stream into DATA only after the server's 354, and it ends
      // once every byte (the terminating dot follows at once) went to the socket. A pooled
      // connection that fails before reading it requeues the message, which creates another.
      message.createReadStream = (...args) => {
        const stream = createReadStream(...args);
        stream.once('end', () => {
          progress.bodySent = true;
        });
        return stream;
      };
    }
    done();
  });

  const render = (context: SendContext): RenderedEmail => {
    const view = offerView(context);
    const { offer, recipient } = context;
    const to = recipientMailbox(recipient.address, recipient.name);
    const messageId = `<${offer.offerId}.email.${offer.version}@${messageIdDomain}>`;
    const headers = {
      'X-Concord-Offer': offer.offerId,
      'List-Unsubscribe': `<${view.unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    };
    assertHeaderSafe('Subject', offer.title);
    assertHeaderSafe('Message-ID', messageId);
    for (const [header, value] of Object.entries(headers)) assertHeaderSafe(header, value);
    return {
      from,
      to,
      subject: offer.title,
      html: templates.render('email/offer.html', view),
      text: templates.render('email/offer.text', view),
      messageId,
      headers,
    };
  };

  const send = async (rendered: RenderedEmail): Promise<SendOutcome> => {
    try {
      assertRenderedSafe(rendered);
    } catch {
      return { status: 'permanent', reason: 'invalid_header' };
    }
    const sendId = randomUUID();
    const progress: SendProgress = { reachedTransport: false, bodySent: false };
    inFlight.set(sendId, progress);
    const mail: SendMailOptions & { [SEND_ID]: string } = {
      from: toAddress(rendered.from),
      to: toAddress(rendered.to),
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      messageId: rendered.messageId,
      headers: { ...rendered.headers },
      [SEND_ID]: sendId,
    };
    try {
      const info: unknown = await transport.sendMail(mail);
      const sent = sentInfoSchema.safeParse(info);
      const providerRef = sent.success
        ? (sent.data.serverMessageId ?? sent.data.response ?? sent.data.messageId)
        : undefined;
      return providerRef === undefined ? { status: 'sent' } : { status: 'sent', providerRef };
    } catch (error) {
      return classifySmtpError(error, progress);
    } finally {
      inFlight.delete(sendId);
    }
  };

  return {
    name: 'email',
    render,
    send,
    close: () => {
      transport.close();
      return Promise.resolve();
    },
  };
}

const sentInfoSchema = z.object({
  serverMessageId: z.string().optional(),
  response: z.string().optional(),
  messageId: z.string().optional(),
});

function toAddress(mailbox: Mailbox): string | { name: string; address: string } {
  return mailbox.name === undefined ? mailbox.address : { name: mailbox.name, address: mailbox.address };
}

function senderMailbox(from: string | Mailbox): Mailbox {
  const mailbox = typeof from === 'string' ? { address: from } : from;
  try {
    return checkedMailbox('From', mailbox.address, mailbox.name);
  } catch (error) {
    throw new ConcordError('invalid_config', `from: ${error instanceof Error ? error.message : 'invalid'}`);
  }
}

function recipientMailbox(address: string, name: string | undefined): Mailbox {
  return checkedMailbox('To', address, name);
}

function checkedMailbox(header: string, address: string, name: string | undefined): Mailbox {
  assertHeaderSafe(header, address);
  if (!emailSchema.safeParse(address).success) {
    throw new ConcordError('invalid_input', `email header ${header}: not an email address`, {
      details: { header },
    });
  }
  if (name === undefined || name.trim() === '') return { address };
  assertHeaderSafe(header, name);
  return { address, name: name.trim() };
}

function assertRenderedSafe(rendered: RenderedEmail): void {
  checkedMailbox('From', rendered.from.address, rendered.from.name);
  checkedMailbox('To', rendered.to.address, rendered.to.name);
  assertHeaderSafe('Subject', rendered.subject);
  assertHeaderSafe('Message-ID', rendered.messageId);
  for (const [header, value] of Object.entries(rendered.headers)) {
    assertHeaderSafe('header name', header);
    assertHeaderSafe(header, value);
  }
}
