import { defaultTemplates, type TemplateRenderer } from '../templates.ts';
import type { SendContext } from '../types.ts';
import { offerView } from '../view.ts';

/**
 * The web banner's HTML for an offer, from `templates/web/banner.html.hbs`, every value escaped.
 * The web channel has no queue: the API calls this with the ledger's live offer at read time, so
 * the banner never shows an offer the ledger does not hold live. Throws `invalid_input` for a
 * link that is not http(s).
 */
export function renderBanner(context: SendContext, templates: TemplateRenderer = defaultTemplates()): string {
  return templates.render('web/banner.html', offerView(context));
}
