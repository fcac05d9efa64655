import { describe, expect, it } from 'vitest';
import { messagePage, offerPage, unsubscribePage } from '../../src/api/pages.ts';
import { createEmailChannel, pushPayload, renderBanner } from '../../src/channels/index.ts';
import { defaultTemplates } from '../../src/channels/templates.ts';
import type { Discount } from '../../src/ledger/index.ts';
import { decodeEntities, sendContext } from '../support/channel-context.ts';

const noPage = {
  offer: undefined,
  upcoming: undefined,
  ended: undefined,
  current: undefined,
  currentUrl: undefined,
};

/** The first capture of `pattern` in `text`, entities decoded; fails the test when absent. */
function captured(text: string, pattern: RegExp): string {
  const match = pattern.exec(text)?.[1];
  expect(match, String(pattern)).toBeDefined();
  return decodeEntities(match ?? '');
}

describe('pages and messages', () => {
  // A page knows no recipient, so the messages are rendered for one with no locale either: the
  // wording must then be the same string in every place an offer is shown.
  const cases: [Discount, string][] = [
    [{ kind: 'percent', value: 12.5 }, '12.5% off'],
    [{ kind: 'amount', value: 5, currency: 'EUR' }, '€5.00 off'],
    [{ kind: 'amount', value: 1500, currency: 'JPY' }, '¥1,500 off'],
    [{ kind: 'free_shipping' }, 'Free shipping'],
  ];
  it.each(cases)('word the discount %j the same way (%s)', (discount, wording) => {
    const context = sendContext({
      // No body, so the push body opens with the discount.
      offer: { discount, code: 'SAVE', body: '' },
      recipient: { locale: '', timezone: '' },
    });
    const email = createEmailChannel({
      transport: { sendMail: () => Promise.reject(new Error('not sent')), use: () => undefined } as never,
      from: 'shop@example.com',
      messageIdDomain: 'mail.example.com',
    }).render(context);
    const shown = {
      livePage: captured(offerPage({ ...noPage, offer: context.offer }), /<p class="discount">(.*?)<\/p>/),
      upcomingPage: captured(
        offerPage({ ...noPage, upcoming: context.offer }),
        /<p class="discount">(.*?)<\/p>/,
      ),
      endedPage: captured(
        offerPage({
          ...noPage,
          ended: context.offer,
          current: context.offer,
          currentUrl: 'https://shop.example/o/x',
        }),
        /<p class="line">(.*?) with code/,
      ),
      emailHtml: captured(email.html, /<p [^>]*color:#166534;">(.*?)<\/p>/),
      emailText: captured(email.text, /\n\n([^\n]*)\nUse code/),
      push: captured(pushPayload(context, 'offer', '', defaultTemplates()).body, /^(.*?) with code/),
      banner: captured(renderBanner(context), /<p class="concord-banner__discount"[^>]*>(.*?) with code/),
    };
    for (const [where, text] of Object.entries(shown)) expect(text, where).toBe(wording);
  });
});

describe('the pages', () => {
  it('escape what they show, as the messages do', () => {
    const hostile = sendContext({
      offer: { title: '<script>x</script>', body: '<img src=x>', code: 'A<B>' },
    });
    const pages = [
      offerPage({ ...noPage, offer: hostile.offer }),
      offerPage({ ...noPage, upcoming: hostile.offer }),
      offerPage({
        ...noPage,
        ended: hostile.offer,
        current: hostile.offer,
        currentUrl: 'https://a.example/"><b>',
      }),
      messagePage('<script>x</script>', '<img src=x>'),
      unsubscribePage({ channel: 'push', done: false, action: 'unsubscribe?c=a&ch="><b>' }),
    ];
    for (const html of pages) {
      expect(html).not.toMatch(/<script>|<img|<b>/);
      expect(html).toContain('<style>');
    }
  });

  it('throw on an offer page with nothing to show rather than render an empty one', () => {
    expect(() => offerPage(noPage)).toThrow(/title/);
  });
});
