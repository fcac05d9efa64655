import { describe, expect, it } from 'vitest';
import { classifyAddress, type AddressKind } from '../../../src/channels/push/address.ts';
import { checkEndpoint, hostAllowed, type Resolve } from '../../../src/channels/push/endpoint-policy.ts';
import { pushEndpointSchema } from '../../../src/ledger/index.ts';

describe('classifyAddress', () => {
  it.each<[string, AddressKind]>([
    ['93.184.216.34', 'public'],
    ['8.8.8.8', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.254', 'shared'],
    ['100.128.0.1', 'public'],
    ['169.254.1.1', 'link_local'],
    ['169.254.169.254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['192.0.0.192', 'metadata'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['2606:4700::1111', 'public'],
    ['2a00:1450:4007:80e::200e', 'public'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['febf::1', 'link_local'],
    ['fc00::1', 'unique_local'],
    ['fd12:3456::1', 'unique_local'],
    ['fd00:ec2::254', 'metadata'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:93.184.216.34', 'public'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:c0a8:0101::1', 'private'],
    ['2001:db8::1', 'reserved'],
    ['2001::1', 'reserved'],
    ['::127.0.0.1', 'reserved'],
    ['fec0::1', 'reserved'],
    ['100::1', 'reserved'],
    ['not-an-address', 'reserved'],
    ['1.2.3', 'reserved'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });
});

describe('Web Push endpoint policy', () => {
  const resolver =
    (answers: Record<string, string[]>): Resolve =>
    (hostname) =>
      Promise.resolve(
        (answers[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      );
  const publicDns = resolver({
    'push.example.com': ['93.184.216.34'],
    'fcm.googleapis.com': ['142.250.74.42', '2a00:1450:4007:80e::200a'],
    'rebind.example.com': ['93.184.216.34', '127.0.0.1'],
    'inside.example.com': ['10.0.0.5'],
    'v6inside.example.com': ['::ffff:169.254.169.254'],
  });

  it('resolves a public https host and pins the first address', async () => {
    expect(await checkEndpoint('https://fcm.googleapis.com/fcm/send/abc', {}, publicDns)).toMatchObject({
      hostname: 'fcm.googleapis.com',
      address: { address: '142.250.74.42', family: 4 },
    });
  });

  it.each([
    'http://push.example.com/x',
    'https://user:pw@push.example.com/x',
    'https://push.example.com:8443/x',
    'https://127.0.0.1/x',
    'https://[::1]/x',
    'https://[::ffff:7f00:1]/x',
    'https://169.254.169.254/latest/meta-data/',
    'https://localhost/x',
    'https://api.localhost/x',
    'https://metadata.google.internal/computeMetadata/v1/',
    'https://metadata/x',
    'https://printer.local/x',
    'https://rebind.example.com/x',
    'https://inside.example.com/x',
    'https://v6inside.example.com/x',
    'https://nowhere.example.com/x',
    'not a url',
  ])('refuses %s', async (endpoint) => {
    expect(await checkEndpoint(endpoint, {}, publicDns)).toBe('webpush_endpoint_refused');
  });

  it('with an allow-list, takes only its hosts and their subdomains, before any lookup', async () => {
    const allowed = ['push.example.com', 'fcm.googleapis.com'];
    expect(hostAllowed('push.example.com', allowed)).toBe(true);
    expect(hostAllowed('eu.push.example.com', allowed)).toBe(true);
    expect(hostAllowed('notpush.example.com', allowed)).toBe(false);
    expect(hostAllowed('push.example.com.evil.net', allowed)).toBe(false);
    const lookups: string[] = [];
    const counting: Resolve = (hostname) => {
      lookups.push(hostname);
      return publicDns(hostname);
    };
    expect(await checkEndpoint('https://evil.example.net/x', { allowedHosts: allowed }, counting)).toBe(
      'webpush_host_not_allowed',
    );
    expect(
      await checkEndpoint('https://PUSH.example.com./x', { allowedHosts: allowed }, counting),
    ).toMatchObject({
      hostname: 'push.example.com',
    });
    expect(lookups).toEqual(['push.example.com']);
  });

  it('the test-only loopback allowance still refuses private and metadata addresses', async () => {
    const policy = { allowLoopback: true };
    expect(await checkEndpoint('https://127.0.0.1:9999/x', policy, publicDns)).toMatchObject({
      address: { address: '127.0.0.1' },
    });
    expect(await checkEndpoint('https://10.0.0.1/x', policy, publicDns)).toBe('webpush_endpoint_refused');
    expect(await checkEndpoint('https://169.254.169.254/x', policy, publicDns)).toBe(
      'webpush_endpoint_refused',
    );
  });
});

describe('pushEndpointSchema', () => {
  const subscription = (endpoint: string) => JSON.stringify({ endpoint, keys: { p256dh: 'p', auth: 'a' } });

  it('takes a PushSubscription with an https endpoint, or an opaque device token', () => {
    for (const value of [subscription('https://fcm.googleapis.com/fcm/send/abc'), 'device-token-123']) {
      expect(pushEndpointSchema.safeParse(value).success, value).toBe(true);
    }
  });

  it('refuses a subscription that is not https, carries credentials or is too long, and control characters', () => {
    for (const value of [
      subscription('http://push.example.com/x'),
      subscription('https://user:pw@push.example.com/x'),
      subscription('file:///etc/passwd'),
      subscription(`https://push.example.com/${'a'.repeat(1100)}`),
      '{"endpoint":',
      'token\u0000with-nul',
    ]) {
      expect(pushEndpointSchema.safeParse(value).success, value.slice(0, 60)).toBe(false);
    }
  });
});
