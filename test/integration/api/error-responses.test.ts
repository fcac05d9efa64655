import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../../src/errors.ts';
import { apiContext, type ApiContext } from '../../support/api-context.ts';
import { routeTable } from '../../support/route-table.ts';

/** Bull Board's routes (the dashboard and everything under it) are its own: they cannot carry our schemas. */
const BOARD = '/admin/queues';
const isBoard = (path: string) => path === BOARD || path.startsWith(`${BOARD}/`);
/** The OpenAPI document's own route is hidden from the document it serves. */
const HIDDEN = ['GET /docs'];

interface Operation {
  readonly responses?: Record<
    string,
    { readonly content?: Record<string, { readonly schema?: Record<string, unknown> }> }
  >;
}

let ctx: ApiContext;
beforeAll(async () => {
  ctx = await apiContext();
});
afterAll(async () => {
  await ctx.close();
});

/** The JSON error shape, as the OpenAPI document shows it. */
function expectErrorShape(schema: Record<string, unknown> | undefined, where: string): void {
  expect(schema, where).toMatchObject({
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: { code: { type: 'string', enum: [...ERROR_CODES] }, message: { type: 'string' } },
      },
    },
  });
  const error = (schema?.['properties'] as { error: { properties: Record<string, unknown> } }).error;
  expect(Object.keys(error.properties).sort(), where).toEqual(['code', 'details', 'message']);
}

describe('the OpenAPI document', () => {
  it('lists every route of the public listener, each with the error shape for 4xx and 5xx', () => {
    const document = ctx.api.swagger() as { paths: Record<string, Record<string, Operation>> };
    const documented = new Map<string, Operation>();
    for (const [path, operations] of Object.entries(document.paths)) {
      const route = path.replace(/\{(\w+)\}/g, ':$1');
      for (const [method, operation] of Object.entries(operations)) {
        documented.set(`${method.toUpperCase()} ${route}`, operation);
      }
    }
    const routes = routeTable(ctx.api).filter(
      (route) => !isBoard(route.split(' ')[1] ?? '') && !HIDDEN.includes(route),
    );
    expect(routes.length).toBeGreaterThan(20);
    for (const route of routes) {
      const operation = documented.get(route);
      expect(operation, `${route} is missing from the document`).toBeDefined();
      for (const status of ['4XX', '5XX']) {
        const where = `${route} ${status}`;
        const json = operation?.responses?.[status]?.content?.['application/json'];
        expectErrorShape(json?.schema, where);
      }
    }
  });

  it('shows what a refused offer answers, beside the range', () => {
    const document = ctx.api.swagger() as { paths: Record<string, Record<string, Operation>> };
    const issue = document.paths['/v1/offers']?.['post'];
    expectErrorShape(issue?.responses?.['409']?.content?.['application/json']?.schema, 'POST /v1/offers 409');
  });
});
