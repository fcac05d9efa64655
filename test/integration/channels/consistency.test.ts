import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmailChannel, createSmtpTransport } from '../../../src/channels/email/index.ts';
import { createHttpPushChannel } from '../../../src/channels/push/http.ts';
import { offerView } from '../../../src/channels/view.ts';
import { renderBanner } from '../../../src/channels/web/banner.ts';
import { sendContext, visibleText } from '../../support/channel-context.ts';
import { startPushSink, type PushSink } from '../../support/push-sink.ts';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.ts';

let smtpSink: SmtpSink;
let pushSink: PushSink;

beforeAll(async () => {
  [smtpSink, pushSink] = await Promise.all([startSmtpSink(), startPushSink()]);
});
afterAll(async () => {
  await Promise.all([smtpSink.close(), pushSink.close()]);
});

describe('one offer on every channel', () => {
  it('says the same title, code, discount and end of validity in the email, the push and the banner', async () => {
    const offer = {
      title: 'Boots & more <winter> sale',
      body: 'Warm feet, cold prices.',
      code: 'WINTER-5&Co',
      discount: { kind: 'amount' as const, value: 5, currency: 'EUR' },
    };
    const recipient = { locale: 'de-DE', timezone: 'Europe/Berlin' };
    const email = createEmailChannel({
      transport: createSmtpTransport(smtpSink.url),
      from: 'offers@example.com',
      messageIdDomain: 'mail.example.com',
    });
    const push = createHttpPushChannel({ url: pushSink.url, timeoutMs: 2_000 });
    try {
      const emailContext = sendContext({ offer, recipient });
      const pushContext = sendContext({ offer, recipient: { ...recipient, address: 'device-token-1' } });
      expect((await email.send(email.render(emailContext), emailContext)).status).toBe('sent');
      expect((await push.send(push.render(pushContext), pushContext)).status).toBe('sent');
      const [message] = await smtpSink.waitForMessages(1);
      const [request] = await pushSink.waitForRequests(1);
      const pushed = request!.json as { title: string; body: string };
      const banner = visibleText(renderBanner(sendContext({ offer, recipient })));

      const view = offerView(emailContext);
      expect(view.discountText.replace(/\u00a0/g, ' ')).toBe('5,00 € off');
      expect(view.validUntilText).toMatch(/^8\. Dezember 2026 um 10:00/);
      const shown = {
        'email subject': message!.subject!,
        'email html': visibleText(message!.html!),
        'email text': message!.text!,
        'push title': pushed.title,
        'push body': pushed.body,
        banner,
      };
      for (const [where, text] of Object.entries(shown)) {
        if (where !== 'push body') expect(text, where).toContain(view.title);
        if (where === 'email subject' || where === 'push title') continue;
        expect(text, where).toContain(view.code!);
        expect(text, where).toContain(view.discountText);
        expect(text, where).toContain(view.validUntilText);
      }
    } finally {
      await Promise.all([email.close(), push.close()]);
    }
  });
});
