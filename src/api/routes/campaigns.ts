import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { campaignDefinitionSchema, scheduleRequestSchema } from '../../campaigns/definition.ts';
import { campaignPreviewSchema } from '../../campaigns/preview.ts';
import { campaignView, campaignViewSchema } from '../../campaigns/record.ts';
import { Campaigns } from '../../campaigns/service.ts';
import { actorOf } from '../auth.ts';
import type { ApiDependencies } from '../dependencies.ts';
import { errorResponses } from '../errors.ts';

const params = z.strictObject({
  id: z.string().regex(/^cmp-[0-9A-HJKMNP-TV-Z]{26}$/, 'expected a campaign id'),
});
const reasonBody = z.strictObject({ reason: z.string().min(1).max(500).optional() }).nullish();
const campaignReply = z.object({ campaign: campaignViewSchema });

/** An audience of 100,000 ids is about 2 MB of JSON. */
const CAMPAIGN_BODY_LIMIT = 4 * 1024 * 1024;

/** Marketers write, preview, approve, schedule, pause, resume and cancel campaigns. */
export const campaignRoutes: FastifyPluginAsyncZod<Pick<ApiDependencies, 'ledger' | 'queues'>> = async (
  app,
  options,
) => {
  const campaigns = new Campaigns({
    ledger: options.ledger,
    queue: options.queues.campaigns,
    slotPolicy: (slot) => options.ledger.offers.policyFor(slot),
  });
  const write = { roles: ['marketer', 'admin'] as const };
  const rules = options.ledger.limits.guardrails;

  app.post(
    '/v1/campaigns',
    {
      config: { roles: write.roles },
      bodyLimit: CAMPAIGN_BODY_LIMIT,
      schema: {
        description: 'Create a campaign (draft)',
        body: campaignDefinitionSchema,
        response: { 201: campaignReply, ...errorResponses },
      },
    },
    async (request, reply) => {
      const campaign = await campaigns.create(request.body, actorOf(request));
      return reply.code(201).send({ campaign: campaignView(campaign, rules) });
    },
  );

  app.get(
    '/v1/campaigns/:id',
    {
      config: { roles: ['marketer', 'support', 'admin'] },
      schema: {
        description: 'The campaign with its state and progress counters',
        params,
        response: { 200: campaignViewSchema, ...errorResponses },
      },
    },
    async (request) => campaignView(await campaigns.get(request.params.id), rules),
  );

  app.post(
    '/v1/campaigns/:id/preview',
    {
      config: { roles: write.roles },
      schema: {
        description:
          'Audience size, guardrail outcome counts and sample renders per channel; changes nothing',
        params,
        body: z.strictObject({}).nullish(),
        response: { 200: z.object({ preview: campaignPreviewSchema }), ...errorResponses },
      },
    },
    async (request) => ({ preview: await campaigns.preview(request.params.id) }),
  );

  app.post(
    '/v1/campaigns/:id/approve',
    {
      config: { roles: write.roles },
      schema: {
        description: "Approve a draft; the approver's key must not be the author's",
        params,
        body: z.strictObject({ note: z.string().min(1).max(500).optional() }).nullish(),
        response: { 200: campaignReply, ...errorResponses },
      },
    },
    async (request) => {
      const campaign = await campaigns.approve(request.params.id, actorOf(request), request.body?.note);
      return { campaign: campaignView(campaign, rules) };
    },
  );

  app.post(
    '/v1/campaigns/:id/schedule',
    {
      config: { roles: write.roles },
      schema: {
        description:
          '`{}` runs it now, `{ at }` once at that time, `{ cron, timezone? }` on every fire; refused unless approved',
        params,
        body: scheduleRequestSchema.nullish(),
        response: { 200: campaignReply, ...errorResponses },
      },
    },
    async (request) => {
      const campaign = await campaigns.schedule(request.params.id, request.body ?? {}, actorOf(request));
      return { campaign: campaignView(campaign, rules) };
    },
  );

  app.post(
    '/v1/campaigns/:id/pause',
    {
      config: { roles: write.roles },
      schema: {
        description: 'Stop issuing at the next page',
        params,
        body: reasonBody,
        response: { 200: campaignReply, ...errorResponses },
      },
    },
    async (request) => {
      const campaign = await campaigns.pause(request.params.id, actorOf(request), request.body?.reason);
      return { campaign: campaignView(campaign, rules) };
    },
  );

  app.post(
    '/v1/campaigns/:id/resume',
    {
      config: { roles: write.roles },
      schema: {
        description: 'Go on where the pause stopped',
        params,
        body: reasonBody,
        response: { 200: campaignReply, ...errorResponses },
      },
    },
    async (request) => {
      const campaign = await campaigns.resume(request.params.id, actorOf(request), request.body?.reason);
      return { campaign: campaignView(campaign, rules) };
    },
  );

  app.post(
    '/v1/campaigns/:id/cancel',
    {
      config: { roles: write.roles },
      schema: {
        description: 'Cancel the campaign and end every live offer it issued, on every channel',
        params,
        body: reasonBody,
        response: { 200: campaignReply.extend({ ended: z.number() }), ...errorResponses },
      },
    },
    async (request) => {
      const result = await campaigns.cancel(request.params.id, actorOf(request), request.body?.reason);
      return { campaign: campaignView(result.campaign, rules), ended: result.ended };
    },
  );
};
