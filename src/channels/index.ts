export type { SendContext } from './types.ts';
export { offerView, offerTermsView, discountText, formatInstant, type MessageOfferView } from './view.ts';
export { defaultTemplates, DEFAULT_TEMPLATES_DIR, type TemplateRenderer } from './templates.ts';
export * from './email/index.ts';
export * from './push/index.ts';
export { renderBanner } from './web/banner.ts';
