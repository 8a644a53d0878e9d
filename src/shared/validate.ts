/**
 * Input validation shared by the facade and the host. Every function is pure and returns either
 * the normalized value or an errMsg; none of them throws.
 */
import { errors, fail, typeName } from './errors.js';
import type { KeepalivePolicy, ReconnectPolicy } from './protocol.js';
import { DEFAULT_KEEPALIVE, DEFAULT_RECONNECT } from './reconnect.js';
import { MAX_TIMER_MS } from './timers.js';
import type { SocketData } from './types.js';

/** A validation outcome: the value, or the errMsg to fail with. */
export type Checked<T> = { ok: true; value: T } | { ok: false; errMsg: string };

const good = <T>(value: T): Checked<T> => ({ ok: true, value });
const bad = <T>(errMsg: string): Checked<T> => ({ ok: false, errMsg });

/** `true` for a plain options object (not null, not an array, not a function). */
export const isOptionsObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** RFC 9110 §5.6.2 token: header names and sub-protocol names. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Header values: visible ASCII, space and tab only. CR/LF/NUL would inject headers; non-ASCII is refused too. */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

/** Lower-cased host without a trailing dot and without IPv6 brackets. */
export function normalizeHost(host: string): string {
  let h = host.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  while (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/**
 * Whether `host` matches one `allowedHosts` entry: exact, or `*.suffix` for any subdomain of
 * suffix (not suffix itself).
 */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const h = normalizeHost(host);
  return allowed.some((entry) => {
    const e = normalizeHost(entry);
    return e.startsWith('*.') ? h.endsWith(e.slice(1)) && h.length > e.length - 1 : h === e;
  });
}

/** Instance policy for urls. */
export interface UrlPolicy {
  requireSecure: boolean;
  allowedHosts: readonly string[] | undefined;
}

/** Checks a connectSocket url: scheme, then the instance's security policy. */
export function checkUrl(url: unknown, policy: UrlPolicy): Checked<string> {
  if (typeof url !== 'string') return bad(errors.urlNotString(url));
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return bad(errors.invalidUrl(url));
  }
  const scheme = parsed.protocol; // always lower-cased by the URL parser
  if (scheme !== 'wss:' && (scheme !== 'ws:' || policy.requireSecure)) return bad(errors.invalidUrl(url));
  // RFC 6455 section 3: no fragment, not even an empty one (which leaves `hash` empty).
  if (parsed.hostname === '' || parsed.href.includes('#')) return bad(errors.invalidUrl(url));
  if (policy.allowedHosts !== undefined && !hostAllowed(parsed.hostname, policy.allowedHosts)) {
    return bad(errors.notInDomainList());
  }
  return good(url);
}

/** Checks handshake headers and returns them with every value stringified. */
export function checkHeaders(header: unknown): Checked<Record<string, string>> {
  if (header === undefined || header === null) return good({});
  if (!isOptionsObject(header)) {
    return bad(
      fail('connectSocket', `parameter error: parameter.header should be Object instead of ${typeName(header)}`),
    );
  }
  const out: Record<string, string> = {};
  for (const name of Object.keys(header)) {
    if (name.toLowerCase() === 'referer') return bad(errors.refererNotAllowed());
    if (!TOKEN.test(name)) return bad(errors.invalidHeader(name));
    let value: string;
    try {
      value = String(header[name]);
    } catch {
      return bad(errors.invalidHeader(name));
    }
    if (!HEADER_VALUE.test(value)) return bad(errors.invalidHeader(name));
    out[name] = value;
  }
  return good(out);
}

/** Checks the sub-protocol list: an array of distinct tokens. */
export function checkProtocols(protocols: unknown): Checked<string[]> {
  if (protocols === undefined || protocols === null) return good([]);
  if (!Array.isArray(protocols)) {
    return bad(
      fail('connectSocket', `parameter error: parameter.protocols should be Array instead of ${typeName(protocols)}`),
    );
  }
  const seen = new Set<string>();
  for (const p of protocols) {
    if (typeof p !== 'string' || !TOKEN.test(p) || seen.has(p)) {
      return bad(fail('connectSocket', `invalid protocol ${typeof p === 'string' ? JSON.stringify(p) : typeName(p)}`));
    }
    seen.add(p);
  }
  return good([...seen]);
}

/** Checks an optional option of a primitive type; `undefined` gives the fallback. */
export function checkOptional<T extends boolean | number>(
  options: Record<string, unknown>,
  key: string,
  expected: 'Boolean' | 'Number',
  fallback: T,
): Checked<T> {
  const value = options[key];
  if (value === undefined) return good(fallback);
  if (expected === 'Boolean' ? typeof value !== 'boolean' : typeof value !== 'number') {
    return bad(
      fail('connectSocket', `parameter error: parameter.${key} should be ${expected} instead of ${typeName(value)}`),
    );
  }
  // A number of the wrong range (a negative or NaN timeout) names the value, not its type.
  if (typeof value === 'number' && !(value >= 0)) {
    return bad(fail('connectSocket', `parameter error: parameter.${key} should be a Number >= 0 instead of ${value}`));
  }
  return good(value as T);
}

/** `parameter error: parameter.<path> should be <what> instead of <got>` of connectSocket. */
const parameterError = (path: string, what: string, got: string): Checked<never> =>
  bad(fail('connectSocket', `parameter error: parameter.${path} should be ${what} instead of ${got}`));

/** Whether `value` is a number of the range `test` accepts; NaN never is. */
type NumberRule = [what: string, test: (value: number, policy: ReconnectPolicy) => boolean];
const RECONNECT_RULES: Record<keyof ReconnectPolicy, NumberRule> = {
  retries: ['an integer >= 0 or Infinity', (v) => (Number.isInteger(v) && v >= 0) || v === Number.POSITIVE_INFINITY],
  minDelay: ['a Number >= 0', (v) => v >= 0 && v <= MAX_TIMER_MS],
  maxDelay: ['a Number >= minDelay', (v, p) => v >= p.minDelay && v <= MAX_TIMER_MS],
  factor: ['a Number >= 1', (v) => v >= 1 && Number.isFinite(v)],
  jitter: ['a Number from 0 to 1', (v) => v >= 0 && v <= 1],
  queue: ['an integer >= 0 or Infinity', (v) => (Number.isInteger(v) && v >= 0) || v === Number.POSITIVE_INFINITY],
};

/** Checks a connectSocket option that is `true`, `false` or an object of numbers. */
function checkNumbers<P extends object>(
  value: unknown,
  name: string,
  defaults: P,
  rules: Record<string, NumberRule>,
): Checked<P | undefined> {
  if (value === undefined || value === false) return good(undefined);
  if (value === true) return good({ ...defaults });
  if (!isOptionsObject(value)) return parameterError(name, 'Boolean or Object', typeName(value));
  const out = { ...defaults } as Record<string, unknown>;
  for (const key of Object.keys(rules)) if (value[key] !== undefined) out[key] = value[key];
  for (const [key, [what, test]] of Object.entries(rules)) {
    const v = out[key];
    if (typeof v !== 'number') return parameterError(`${name}.${key}`, 'Number', typeName(v));
    if (!test(v, out as unknown as ReconnectPolicy)) return parameterError(`${name}.${key}`, what, String(v));
  }
  return good(out as P);
}

/** Checks connectSocket's `reconnect`: the policy with every default, or undefined when off. */
export const checkReconnect = (value: unknown): Checked<ReconnectPolicy | undefined> =>
  checkNumbers(value, 'reconnect', DEFAULT_RECONNECT, RECONNECT_RULES);

/** Checks connectSocket's `keepalive`: the policy with every default, or undefined when off. */
export function checkKeepalive(value: unknown): Checked<KeepalivePolicy | undefined> {
  const positive: NumberRule = ['a Number > 0', (v) => v > 0 && v <= MAX_TIMER_MS];
  const checked = checkNumbers(value, 'keepalive', DEFAULT_KEEPALIVE, { interval: positive, timeout: positive });
  if (!checked.ok || checked.value === undefined || !isOptionsObject(value)) return checked;
  const { message } = value;
  if (message === undefined) return checked;
  if (typeof message !== 'string') return parameterError('keepalive.message', 'String', typeName(message));
  return good({ ...checked.value, message });
}

/** UTF-8 length of a string without encoding it (Buffer.byteLength where it exists). */
export function utf8ByteLength(text: string): number {
  const B = (globalThis as { Buffer?: { byteLength(s: string): number } }).Buffer;
  if (B !== undefined) return B.byteLength(text);
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** RFC 6455 §7.4: the codes an application may send. */
export const isSendableCloseCode = (code: unknown): code is number =>
  Number.isInteger(code) && ((code as number) === 1000 || ((code as number) >= 3000 && (code as number) <= 4999));

/** The most bytes a close reason may take (RFC 6455 §5.5: 125-byte control payload minus the code). */
export const MAX_CLOSE_REASON_BYTES = 123;

/** Checks close({ code, reason }) and returns the normalized pair. */
export function checkClose(options: Record<string, unknown>): Checked<{ code: number; reason: string }> {
  const code = options.code === undefined ? 1000 : options.code;
  if (!isSendableCloseCode(code)) return bad(errors.invalidCode());
  const reason = options.reason === undefined ? '' : options.reason;
  if (typeof reason !== 'string') return bad(errors.reasonNotString());
  if (utf8ByteLength(reason) > MAX_CLOSE_REASON_BYTES) return bad(errors.reasonTooLong());
  return good({ code, reason });
}

const isArrayBuffer = (value: unknown): value is ArrayBuffer =>
  Object.prototype.toString.call(value) === '[object ArrayBuffer]';

/** Checks send data: a string, an ArrayBuffer or any ArrayBuffer view. */
export function checkSendData(data: unknown): Checked<SocketData> {
  if (typeof data === 'string' || isArrayBuffer(data) || ArrayBuffer.isView(data)) return good(data);
  return bad(errors.dataType());
}
