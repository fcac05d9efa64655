import nodemailer, { type Transporter } from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createEmailChannel, type RenderedEmail } from '../../../src/channels/email/index.ts';
import type { MessageChannel } from '../../../src/channels/types.ts';
import { ConcordError } from '../../../src/errors.ts';
import { OFFER_ID, sendContext } from '../../support/channel-context.ts';

// A transport that builds the message in memory: rendering and header checks need no server.
let transport: Transporter;
let channel: MessageChannel<RenderedEmail>;

beforeEach(() => {
  transport = nodemailer.createTransport({ streamTransport: true, buffer: true });
  channel = createEmailChannel({
    transport,
    from: 'offers@example.com',
    messageIdDomain: 'mail.example.com',
  });
});
afterEach(async () => {
  await channel.close();
});

function thrown(run: () => unknown, code: ConcordError['code']): ConcordError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConcordError);
    expect((error as ConcordError).code).toBe(code);
    return error as ConcordError;
  }
  throw new Error(`expected ${code}`);
}
const invalidInput = (run: () => unknown) => thrown(run, 'invalid_input');

describe('email render', () => {
  it('gives subject, both parts and the four headers docs/API.md names', () => {
    const context = sendContext();
    const email = channel.render(context);
    expect(email.subject).toBe('20% off running shoes');
    expect(email.from).toEqual({ address: 'offers@example.com' });
    expect(email.to).toEqual({ address: 'ana@example.com', name: 'Ana' });
    expect(email.messageId).toBe(`<${OFFER_ID}.email.3@mail.example.com>`);
    expect(email.headers).toEqual({
      'X-Concord-Offer': OFFER_ID,
      'List-Unsubscribe': `<${context.links.unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
    expect(email.text).toContain('RUN20-7QX');
    expect(email.text).toContain(context.links.offerUrl);
    expect(email.html).toContain('RUN20-7QX');
  });

  it('changes the Message-ID with the offer version', () => {
    const email = channel.render(sendContext({ offer: { version: 4 } }));
    expect(email.messageId).toBe(`<${OFFER_ID}.email.4@mail.example.com>`);
  });

  it.each([
    ['Subject', sendContext({ offer: { title: '20% off\r\nBcc: victim@example.com' } })],
    ['Subject', sendContext({ offer: { title: 'line\nbreak' } })],
    ['To', sendContext({ recipient: { address: 'ana@example.com\r\nBcc: victim@example.com' } })],
    ['To', sendContext({ recipient: { name: 'Ana\r\nBcc: victim@example.com' } })],
    [
      'List-Unsubscribe',
      sendContext({ links: { unsubscribeUrl: 'https://shop.example/u?x=1\r\nBcc: victim@example.com' } }),
    ],
  ])('refuses CR or LF in %s', (header, context) => {
    const error = invalidInput(() => channel.render(context));
    expect(error.message).toBe(`email header ${header} must not contain CR or LF`);
  });

  it('refuses a recipient address that is not one', () => {
    expect(
      invalidInput(() => channel.render(sendContext({ recipient: { address: 'not-an-address' } }))).message,
    ).toMatch(/To: not an email address/);
  });

  it('refuses a sender or Message-ID domain that could break a header, at creation', () => {
    for (const options of [
      { from: 'offers@example.com\r\nBcc: victim@example.com', messageIdDomain: 'mail.example.com' },
      {
        from: { address: 'offers@example.com', name: 'Shop\nBcc: x@example.com' },
        messageIdDomain: 'mail.example.com',
      },
      { from: 'offers@example.com', messageIdDomain: 'mail.example.com>\r\nBcc: x@example.com' },
      { from: 'offers@example.com', messageIdDomain: '' },
    ]) {
      thrown(() => createEmailChannel({ transport, ...options }), 'invalid_config');
    }
  });

  it('sends nothing and fails permanently when a rendered email was altered to carry CR or LF', async () => {
    const sendMail = vi.spyOn(transport, 'sendMail');
    const email = channel.render(sendContext());
    const tampered = {
      ...email,
      headers: { ...email.headers, 'X-Concord-Offer': `${OFFER_ID}\r\nBcc: x@example.com` },
    };
    expect(await channel.send(tampered, sendContext())).toEqual({
      status: 'permanent',
      reason: 'invalid_header',
    });
    expect(sendMail).not.toHaveBeenCalled();
  });

  it('hands a well-formed email to the transport and reports it sent', async () => {
    const sendMail = vi.spyOn(transport, 'sendMail');
    const context = sendContext();
    const outcome = await channel.send(channel.render(context), context);
    expect(outcome).toEqual({ status: 'sent', providerRef: `<${OFFER_ID}.email.3@mail.example.com>` });
    expect(sendMail).toHaveBeenCalledOnce();
  });
});
