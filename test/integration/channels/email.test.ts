import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createEmailChannel,
  createSmtpTransport,
  type RenderedEmail,
} from '../../../src/channels/email/index.ts';
import type { MessageChannel } from '../../../src/channels/types.ts';
import { offerView } from '../../../src/channels/view.ts';
import { freePort } from '../../support/redis-server.ts';
import { OFFER_ID, sendContext, visibleText } from '../../support/channel-context.ts';
import { smtp, startSmtpSink, type SmtpSink } from '../../support/smtp-sink.ts';

let sink: SmtpSink;
let channel: MessageChannel<RenderedEmail>;

function channelFor(url: string, socketTimeoutMs = 2_000) {
  return createEmailChannel({
    transport: createSmtpTransport(url, {
      socketTimeoutMs,
      connectionTimeoutMs: 2_000,
      greetingTimeoutMs: 2_000,
    }),
    from: { address: 'offers@example.com', name: 'Example Shop' },
    messageIdDomain: 'mail.example.com',
  });
}

beforeAll(async () => {
  sink = await startSmtpSink();
});
afterAll(async () => {
  await sink.close();
});
beforeEach(() => {
  sink.setDefault(smtp.accept);
  channel = channelFor(sink.url);
});
afterEach(async () => {
  await channel.close();
});

async function sendOne(context = sendContext()) {
  return channel.send(channel.render(context), context);
}

describe('email channel over SMTP', () => {
  it('delivers one message with the code, from the templates, with all four headers', async () => {
    const before = sink.messages.length;
    const context = sendContext();
    const outcome = await sendOne(context);
    expect(outcome).toEqual({
      status: 'sent',
      providerRef: expect.stringMatching(/^250 .*Queued as SINK\d+$/) as string,
    });

    const [message] = (await sink.waitForMessages(before + 1)).slice(before);
    const view = offerView(context);
    expect(message!.envelope).toEqual({ from: 'offers@example.com', to: ['ana@example.com'] });
    expect(message!.subject).toBe('20% off running shoes');
    expect(message!.headers['message-id']).toBe(`<${OFFER_ID}.email.3@mail.example.com>`);
    expect(message!.headers['x-concord-offer']).toBe(OFFER_ID);
    expect(message!.headers['list-unsubscribe']).toBe(`<${context.links.unsubscribeUrl}>`);
    expect(message!.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    expect(message!.headers['from']).toBe('Example Shop <offers@example.com>');
    expect(message!.headers['to']).toBe('Ana <ana@example.com>');
    for (const part of [view.code!, view.discountText, view.validUntilText, view.title]) {
      expect(message!.text).toContain(part);
      expect(visibleText(message!.html!)).toContain(part);
    }
    expect(message!.text).toContain(context.links.offerUrl);
    expect(message!.html).toContain('See the offer');
  });

  it.each([421, 451])('a %i at the end of DATA is transient', async (code) => {
    sink.script(smtp.reject(code, 'Try again later'));
    expect(await sendOne()).toEqual({ status: 'transient', reason: `smtp_${code}` });
  });

  it('a 550 is permanent, with the reason the server gave', async () => {
    sink.script(smtp.reject(550, 'Message content rejected'));
    expect(await sendOne()).toEqual({ status: 'permanent', reason: 'smtp_550' });
  });

  it('a connection dropped after the body was received is unknown: the server may have it', async () => {
    const received = sink.received.length;
    sink.script(smtp.dropAfterData);
    expect(await sendOne()).toEqual({ status: 'unknown', reason: 'connection_lost_after_data' });
    expect(sink.received.slice(received).map((message) => message.behaviour)).toEqual(['dropAfterData']);
  });

  it('a server that never answers the body is unknown once the socket times out', async () => {
    await channel.close();
    channel = channelFor(sink.url, 300);
    sink.script(smtp.hangAfterData);
    expect(await sendOne()).toEqual({ status: 'unknown', reason: 'connection_lost_after_data' });
  });

  it('a connection dropped before the body went out is transient', async () => {
    const received = sink.received.length;
    sink.script(smtp.dropBeforeData);
    expect(await sendOne()).toEqual({ status: 'transient', reason: 'smtp_connection: ECONNECTION' });
    expect(sink.received.length).toBe(received);
  });

  it('the pool carries on with a new connection after a failure', async () => {
    const before = sink.messages.length;
    sink.script(smtp.dropAfterData, smtp.accept);
    expect((await sendOne()).status).toBe('unknown');
    expect((await sendOne()).status).toBe('sent');
    await sink.waitForMessages(before + 1);
  });

  it('a server that is not there is transient', async () => {
    await channel.close();
    channel = channelFor(`smtp://127.0.0.1:${await freePort()}`);
    expect(await sendOne()).toEqual({ status: 'transient', reason: 'smtp_connection: ECONNREFUSED' });
  });

  it('refuses CR or LF in a header value at render, so nothing reaches the server', () => {
    const received = sink.received.length;
    const context = sendContext({ offer: { title: 'Sale\r\nBcc: everyone@example.com' } });
    expect(() => channel.render(context)).toThrow('email header Subject must not contain CR or LF');
    expect(sink.received.length).toBe(received);
  });
});
