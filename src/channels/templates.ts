import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import type { MessageOfferView, OfferTermsView } from './view.ts';

/**
 * The message templates under `templates/`, as `<dir>/<name>` (file: `<dir>/<name>.hbs`); each
 * renders one offer from a {@link MessageOfferView}.
 */
export const TEMPLATE_NAMES = [
  'email/offer.html',
  'email/offer.text',
  'push/offer',
  'push/retract',
  'web/banner.html',
] as const;
/** One of {@link TEMPLATE_NAMES}. */
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

/** An offer that has not started yet, with the start of its validity as text. */
interface UpcomingOfferView extends OfferTermsView {
  /** The start of validity, e.g. "Tue, 08 Dec 2026 09:00:00 GMT". */
  readonly validFromText: string;
}

/**
 * The page behind an offer link: exactly one of `live`, `upcoming` and `ended` is set; `current`
 * (the customer's live offer in the same slot) and its signed `currentUrl` only beside `ended`.
 */
interface OfferPageView {
  /** The pages' stylesheet, inlined (its hash is what the page's CSP allows). */
  readonly css: string;
  readonly live: OfferTermsView | null;
  readonly upcoming: UpcomingOfferView | null;
  readonly ended: OfferTermsView | null;
  readonly current: OfferTermsView | null;
  readonly currentUrl: string | null;
}

/** The one-click unsubscribe page: the confirmation form, or the result once done. */
interface UnsubscribePageView {
  readonly css: string;
  readonly done: boolean;
  /** How the channel is named in a sentence, e.g. "push notification". */
  readonly channelName: string;
  /** The form's target, built from validated parameters. */
  readonly action: string;
}

/** A page with a title and one line of text (a link that cannot be followed). */
interface MessagePageView {
  readonly css: string;
  readonly title: string;
  readonly message: string;
}

/**
 * Every template under `templates/` and the view it renders from: the messages and the web pages
 * go through the same renderer, so they share its escaping and its strictness.
 */
type TemplateViews = Record<TemplateName, MessageOfferView> & {
  'web/offer-page.html': OfferPageView;
  'web/unsubscribe.html': UnsubscribePageView;
  'web/message.html': MessagePageView;
};

/** The package's `templates/` directory, found from this file (src/channels → ../../templates). */
export const DEFAULT_TEMPLATES_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));

/** Renders named templates; each file is read and compiled once, then served from a cache. */
export interface TemplateRenderer {
  /**
   * Renders `name` with its view. HTML-escapes every `{{value}}` (only `{{{value}}}` in the
   * plain-text templates writes text as it is); throws when the template names a field the view
   * lacks.
   */
  render<N extends keyof TemplateViews>(name: N, view: TemplateViews[N]): string;
}

/**
 * A renderer over `dir` (default: the package's templates). Templates compile in an isolated
 * Handlebars environment, in strict mode, with HTML escaping on and Handlebars' default ban on
 * prototype properties and methods left in place; nothing is registered globally, so a helper
 * another library registers cannot change what Concord renders.
 */
export function createTemplateRenderer(dir: string = DEFAULT_TEMPLATES_DIR): TemplateRenderer {
  const handlebars = Handlebars.create();
  const cache = new Map<string, Handlebars.TemplateDelegate>();
  const compiled = (name: keyof TemplateViews) => {
    let template = cache.get(name);
    if (!template) {
      const source = readFileSync(join(dir, `${name}.hbs`), 'utf8');
      template = handlebars.compile(source, { strict: true, noEscape: false });
      cache.set(name, template);
    }
    return template;
  };
  return { render: (name, view) => compiled(name)(view) };
}

let shared: TemplateRenderer | undefined;

/** The process-wide renderer over the package's templates, for messages and pages alike. */
export function defaultTemplates(): TemplateRenderer {
  shared ??= createTemplateRenderer();
  return shared;
}
