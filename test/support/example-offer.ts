/**
 * The terms of the example offer in docs/API.md (without customer and validity), shared by tests and
 * benchmarks (no test runner imports here, so the benchmark can use it too).
 */
export const EXAMPLE_OFFER = {
  slot: 'promo',
  title: '20% off running shoes',
  body: 'Your size is back in stock.',
  code: 'RUN20-7QX',
  discount: { kind: 'percent' as const, value: 20 },
  sku: 'SHOE-42',
  category: 'running',
  channels: ['email' as const, 'push' as const, 'web' as const],
  priority: 10,
};
