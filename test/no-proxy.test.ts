/** createQQ's `noProxy` (no-proxy.ts): NO_PROXY's forms, read by Go's rules. */
import { describe, expect, it } from 'vitest';
import { addressBytes, bypassesProxy, parseNoProxy } from '../src/shared/no-proxy.js';

const bypasses = (noProxy: string | string[], host: string, port = 443) => {
  const parsed = parseNoProxy(noProxy);
  if (parsed === undefined) throw new Error(`not parsed: ${noProxy}`);
  return bypassesProxy(parsed, host, port);
};

describe('noProxy', () => {
  it.each([
    // names: the name and its subdomains; a leading dot or *. for subdomains only
    ['example.com', 'example.com', true],
    ['example.com', 'api.example.com', true],
    ['example.com', 'badexample.com', false],
    ['.example.com', 'example.com', false],
    ['.example.com', 'a.b.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'api.example.com', true],
    ['EXAMPLE.com.', 'Api.Example.COM', true],
    // names as a url's host reads once parsed: punycode, IPv4 in dotted form
    ['bücher.example', 'xn--bcher-kva.example', true],
    ['.bücher.example', 'shop.xn--bcher-kva.example', true],
    ['0x7f.1', '127.0.0.1', true],
    // a port narrows an entry to it
    ['example.com:443', 'example.com', true],
    ['example.com:8443', 'example.com', false],
    // addresses, exact or by block, v4 and v6 in any spelling
    ['127.0.0.1', '127.0.0.1', true],
    ['127.0.0.1', '127.0.0.2', false],
    ['127.0.0.0/8', '127.200.3.4', true],
    ['127.0.0.0/8', '128.0.0.1', false],
    ['10.1.0.0/15', '10.0.255.255', true],
    ['10.1.0.0/15', '10.2.0.0', false],
    ['0.0.0.0/0', '203.0.113.9', true],
    ['::1', '[::1]', true],
    ['::1', '0:0:0:0:0:0:0:1', true],
    ['[::1]:443', '::1', true],
    ['[::1]:80', '::1', false],
    ['fd00::/8', '[fd12:3456::1]', true],
    ['fd00::/8', 'fe80::1', false],
    ['[2001:db8::]/32', '2001:db8:ffff::1', true],
    ['::ffff:10.0.0.0/104', '::ffff:10.9.8.7', true],
    // families do not mix, names are not addresses
    ['127.0.0.0/8', '::1', false],
    ['127.0.0.1', 'localhost', false],
    ['localhost', '127.0.0.1', false],
    // '*' is everything; a NO_PROXY value as it comes: commas and spaces
    ['*', 'anything.test', true],
    ['a.test, b.test ,c.test', 'b.test', true],
    ['a.test\tb.test', 'x.b.test', true],
    ['', 'a.test', false],
  ])('%j → %s: %s', (noProxy, host, want) => {
    expect(bypasses(noProxy, host)).toBe(want);
  });

  it('takes an array of entries, each of which may be a list', () => {
    expect(bypasses(['a.test', 'b.test,10.0.0.0/8'], '10.1.2.3')).toBe(true);
    expect(bypasses(['a.test', 'b.test,10.0.0.0/8'], 'c.test')).toBe(false);
  });

  it.each([
    'a.test:99999',
    'a.test:0',
    'a.test:x',
    '10.0.0.0/33',
    '::/129',
    '[::1',
    '300.1.1.1/8',
    'a*b.test',
    'a%41.test',
    'a/b',
    'user@host',
    '\u0000',
    '[fe80::1%eth0]',
    '.1.2.3.4',
    'a:b:c',
    '.',
    '*.',
  ])('refuses %j', (entry) => {
    expect(parseNoProxy(entry)).toBeUndefined();
  });

  it('reads addresses as the WHATWG URL parser does', () => {
    expect(addressBytes('1.2.3.4')).toEqual([1, 2, 3, 4]);
    expect(addressBytes('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 1, 2, 3, 4]);
    expect(addressBytes('2001:DB8::1')).toEqual([32, 1, 13, 184, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(addressBytes('1.2.3')).toBeUndefined();
    expect(addressBytes('example.com')).toBeUndefined();
    expect(addressBytes('1::2::3')).toBeUndefined();
  });
});
