/**
 * createQQ's `noProxy`: the hosts a connection reaches directly although `proxy` is set, written
 * as NO_PROXY is, read by Go's rules (golang.org/x/net/http/httpproxy), the fullest of the usual
 * readings:
 * - `*` alone: nothing goes through the proxy;
 * - `example.com`: that name and its subdomains; `.example.com` or `*.example.com`: subdomains only;
 * - an IP address, or a block of them in CIDR notation (`10.0.0.0/8`, `fd00::/8`);
 * - a name or an address with `:port` (`[::1]:8080` for IPv6): connections to that port only.
 * Entries are separated by commas or white space (a NO_PROXY value as it is), or come as an
 * array. Names compare as a url's host does (lower case, no trailing dot), addresses in their
 * canonical form. Unlike Go (and Chromium), loopback is not implied: name it.
 */
import { normalizeHost } from './validate.js';

/** `noProxy` parsed on the facade, as the host reads it. */
export interface NoProxy {
  all: boolean;
  names: Array<{ name: string; subdomainsOnly: boolean; port?: number }>;
  /** Address blocks: the address's bytes (4 or 16) and how many leading bits count. */
  blocks: Array<{ bytes: number[]; prefix: number; port?: number }>;
}

/** The bytes of an IPv4 or IPv6 address (without brackets), or undefined for anything else. */
export function addressBytes(text: string): number[] | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const parts = text.split('.').map(Number);
    return parts.every((n) => n <= 255) ? parts : undefined;
  }
  if (!text.includes(':')) return undefined;
  let canonical: string;
  try {
    canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1); // the WHATWG parser checks it
  } catch {
    return undefined;
  }
  const [head = '', tail] = canonical.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  // An embedded IPv4 tail is written as two hex groups by the URL parser.
  const left = groups(head);
  const right = groups(tail);
  const all = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return all.flatMap((group) => {
    const n = Number.parseInt(group, 16);
    return [n >> 8, n & 0xff];
  });
}

/**
 * A name as a url's host reads once parsed (the WHATWG parser: lower case, punycode, IPv4 in
 * dotted form), or undefined where it is no host name.
 */
function urlHost(text: string): string | undefined {
  if (text === '' || /[\s/?#@\\%:*]/.test(text)) return undefined;
  try {
    return normalizeHost(new URL(`http://${text}/`).hostname);
  } catch {
    return undefined;
  }
}

const portOf = (text: string | undefined): number | undefined | null => {
  if (text === undefined) return undefined;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : 0;
  return port >= 1 && port <= 65535 ? port : null;
};

/** Parses `noProxy`; undefined if an entry is none of the forms above. */
export function parseNoProxy(value: string | readonly string[]): NoProxy | undefined {
  const entries = (typeof value === 'string' ? [value] : value).flatMap((v) => v.split(/[\s,]+/));
  const out: NoProxy = { all: false, names: [], blocks: [] };
  for (const raw of entries) {
    const entry = raw.toLowerCase();
    if (entry === '') continue;
    if (entry === '*') {
      out.all = true;
      continue;
    }
    const cidr = /^\[?([^\]/]+)\]?\/(\d{1,3})$/.exec(entry);
    if (cidr !== null) {
      const bytes = addressBytes(cidr[1] as string);
      const prefix = Number(cidr[2]);
      if (bytes === undefined || prefix > bytes.length * 8) return undefined;
      out.blocks.push({ bytes, prefix });
      continue;
    }
    // host, host:port, [v6], [v6]:port, or a bare IPv6 address (more than one colon).
    const split =
      /^\[([^\]]+)\](?::([^:]*))?$/.exec(entry) ??
      (entry.indexOf(':') === entry.lastIndexOf(':') ? /^([^:]+)(?::(.*))?$/.exec(entry) : [entry, entry]);
    const port = portOf(split?.[2]);
    if (split === null || port === null) return undefined;
    let host = split[1] as string;
    const subdomainsOnly = host.startsWith('.') || host.startsWith('*.');
    if (!host.includes(':')) {
      const name = urlHost(host.slice(host.startsWith('*.') ? 2 : subdomainsOnly ? 1 : 0));
      if (name === undefined || name === '') return undefined;
      host = name;
    }
    const bytes = addressBytes(host);
    if (bytes !== undefined && !subdomainsOnly) {
      out.blocks.push({ bytes, prefix: bytes.length * 8, port });
      continue;
    }
    if (bytes !== undefined || host.includes(':')) return undefined; // no .1.2.3.4, no IPv6 name
    out.names.push({ name: host, subdomainsOnly, port });
  }
  return out;
}

/** Whether a connection to `host:port` (a url's host, brackets or not) goes around the proxy. */
export function bypassesProxy(noProxy: NoProxy | undefined, host: string, port: number): boolean {
  if (noProxy === undefined) return false;
  if (noProxy.all) return true;
  const h = normalizeHost(host);
  const portMatches = (entry: { port?: number }) => entry.port === undefined || entry.port === port;
  const bytes = addressBytes(h);
  if (bytes !== undefined) {
    return noProxy.blocks.some((block) => {
      if (block.bytes.length !== bytes.length || !portMatches(block)) return false;
      for (let bit = 0; bit < block.prefix; bit += 8) {
        const mask = (0xff << (8 - Math.min(8, block.prefix - bit))) & 0xff;
        if (((block.bytes[bit / 8] as number) & mask) !== ((bytes[bit / 8] as number) & mask)) return false;
      }
      return true;
    });
  }
  return noProxy.names.some(
    (entry) => portMatches(entry) && (h.endsWith(`.${entry.name}`) || (!entry.subdomainsOnly && h === entry.name)),
  );
}
