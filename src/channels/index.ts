export type { MessageChannel, OfferLinks, SendContext, SendOutcome } from './types.ts';
export { offerView, offerTermsView, discountText, formatInstant, type MessageOfferView } from './view.ts';
export {
  createTemplateRenderer,
  defaultTemplates,
  DEFAULT_TEMPLATES_DIR,
  TEMPLATE_NAMES,
  type TemplateName,
  type TemplateRenderer,
} from './templates.ts';
export * from './email/index.ts';
export * from './push/index.ts';
export { renderBanner } from './web/banner.ts';
