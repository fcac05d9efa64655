import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import type { OfferView } from './view.ts';

/** The templates the channels render, as `<dir>/<name>` under `templates/` (file: `<dir>/<name>.hbs`). */
export const TEMPLATE_NAMES = [
  'email/offer.html',
  'email/offer.text',
  'push/offer',
  'push/retract',
  'web/banner.html',
] as const;
/** One of {@link TEMPLATE_NAMES}. */
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

/** The package's `templates/` directory, found from this file (src/channels → ../../templates). */
export const DEFAULT_TEMPLATES_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));

/** Renders named templates; each file is read and compiled once, then served from a cache. */
export interface TemplateRenderer {
  /** Renders `name` with `view`; throws when the template names a field the view lacks. */
  render(name: TemplateName, view: OfferView): string;
}

/**
 * A renderer over `dir` (default: the package's templates). Templates compile in an isolated
 * Handlebars environment, in strict mode, with HTML escaping on and Handlebars' default ban on
 * prototype properties and methods left in place; nothing is registered globally.
 */
export function createTemplateRenderer(dir: string = DEFAULT_TEMPLATES_DIR): TemplateRenderer {
  const handlebars = Handlebars.create();
  const cache = new Map<TemplateName, Handlebars.TemplateDelegate<OfferView>>();
  const compiled = (name: TemplateName) => {
    let template = cache.get(name);
    if (!template) {
      const source = readFileSync(join(dir, `${name}.hbs`), 'utf8');
      template = handlebars.compile<OfferView>(source, { strict: true, noEscape: false });
      cache.set(name, template);
    }
    return template;
  };
  return { render: (name, view) => compiled(name)(view) };
}

let shared: TemplateRenderer | undefined;

/** The process-wide renderer over the package's templates. */
export function defaultTemplates(): TemplateRenderer {
  shared ??= createTemplateRenderer();
  return shared;
}
