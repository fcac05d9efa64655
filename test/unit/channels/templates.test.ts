import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createTemplateRenderer,
  defaultTemplates,
  TEMPLATE_NAMES,
  type TemplateName,
} from '../../../src/channels/templates.ts';
import { offerView } from '../../../src/channels/view.ts';
import { sendContext, visibleText } from '../../support/channel-context.ts';

const hostile = sendContext({
  offer: {
    title: '<script>alert("x")</script> Tom & Jerry',
    body: '<img src=x onerror=alert(1)>',
    code: 'A<B>&C',
  },
  recipient: { name: '<b>Ana</b>' },
});

describe('the package templates', () => {
  it('all exist; offer templates show the title, code, discount and end of validity', () => {
    const view = offerView(sendContext());
    for (const name of TEMPLATE_NAMES) {
      const output = defaultTemplates().render(name, view);
      // A push carries the title in its own field; the body template does not repeat it.
      if (name !== 'push/offer') expect(output, name).toContain(view.title);
      if (name === 'push/retract') continue;
      for (const part of [view.code, view.discountText, view.validUntilText])
        expect(output, name).toContain(part);
    }
  });

  it('escapes offer text in HTML templates', () => {
    const view = offerView(hostile);
    for (const name of ['email/offer.html', 'web/banner.html'] as const) {
      const html = defaultTemplates().render(name, view);
      expect(html, name).not.toContain('<script>');
      expect(html, name).not.toContain('<img');
      expect(html, name).not.toContain('<b>');
      expect(html, name).toContain('&lt;script&gt;');
      expect(visibleText(html), name).toContain(view.title);
      expect(visibleText(html), name).toContain('A<B>&C');
    }
  });

  it('does not HTML-escape plain-text templates', () => {
    const view = offerView(hostile);
    const text = defaultTemplates().render('email/offer.text', view);
    expect(text).toContain('Tom & Jerry');
    expect(text).toContain('Use code A<B>&C');
    expect(text).not.toContain('&amp;');
    expect(defaultTemplates().render('push/offer', view)).toContain('with code A<B>&C');
  });

  it('puts only the offer and unsubscribe links in the email', () => {
    const context = sendContext();
    const html = defaultTemplates().render('email/offer.html', offerView(context));
    const hrefs = [...html.matchAll(/\bhref="([^"]*)"/g)].map((match) =>
      match[1]!.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&'),
    );
    expect(new Set(hrefs)).toEqual(new Set([context.links.offerUrl, context.links.unsubscribeUrl]));
    expect(html).not.toMatch(/\bsrc=/);
  });
});

describe('createTemplateRenderer', () => {
  let dir: string;
  const write = (name: TemplateName, source: string) => {
    mkdirSync(join(dir, name.split('/')[0]!), { recursive: true });
    writeFileSync(join(dir, `${name}.hbs`), source);
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'concord-templates-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    vi.restoreAllMocks();
  });

  it('reads and compiles each template once', () => {
    write('push/offer', 'v1 {{title}}');
    const renderer = createTemplateRenderer(dir);
    const view = offerView(sendContext());
    expect(renderer.render('push/offer', view)).toBe(`v1 ${view.title}`);
    write('push/offer', 'v2 {{title}}');
    expect(renderer.render('push/offer', view)).toBe(`v1 ${view.title}`);
    expect(createTemplateRenderer(dir).render('push/offer', view)).toBe(`v2 ${view.title}`);
  });

  it('throws on a field the view does not have (strict mode)', () => {
    write('push/offer', '{{title}} {{tilte}}');
    expect(() => createTemplateRenderer(dir).render('push/offer', offerView(sendContext()))).toThrow(/tilte/);
  });

  it('does not reach prototype properties or methods', () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    write('push/offer', '[{{constructor}}][{{__proto__}}][{{hasOwnProperty}}][{{valueOf}}]');
    expect(createTemplateRenderer(dir).render('push/offer', offerView(sendContext()))).toBe('[][][][]');
  });

  it('is isolated from helpers registered on the global Handlebars', () => {
    Handlebars.registerHelper('discountText', () => 'HIJACKED');
    try {
      write('push/offer', '{{discountText}}');
      expect(createTemplateRenderer(dir).render('push/offer', offerView(sendContext()))).toBe('20% off');
    } finally {
      Handlebars.unregisterHelper('discountText');
    }
  });
});
