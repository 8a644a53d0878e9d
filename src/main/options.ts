/**
 * createQQ's options, checked and given their defaults ({@link resolveOptions}: a wrong one throws
 * a TypeError naming it), and connectSocket's ({@link checkConnect}: a wrong one is an errMsg).
 */
import { errors, fail, pipelineErrors, typeName } from '../shared/errors.js';
import { DEFAULT_HEARTBEAT_MS, MIN_HEARTBEAT_MS } from '../shared/heartbeat.js';
import { parseNoProxy } from '../shared/no-proxy.js';
import type { ConnectFrame, ProxyConfig } from '../shared/protocol.js';
import { MAX_TIMER_MS } from '../shared/timers.js';
import type { ConnectSocketOption, LogEntry, LogLevel, QQOptions, Sharing, TlsConfig } from '../shared/types.js';
import {
  type Checked,
  checkHeaders,
  checkKeepalive,
  checkOptional,
  checkProtocols,
  checkReconnect,
  checkUrl,
  isOptionsObject,
  normalizeHost,
} from '../shared/validate.js';
import type { Platform } from './platform.js';

/** docs/semantics.md "qq.connectSocket": at most maxConnections (default 5) tasks per qq instance. */
const DEFAULT_MAX_CONNECTIONS = 5;
const DEFAULT_CONNECT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_PAYLOAD = 100 * 1024 * 1024;

/** createQQ options after validation. */
export interface ResolvedOptions {
  backend: string;
  maxConnections: number;
  connectTimeout: number;
  allowedHosts: readonly string[] | undefined;
  requireSecure: boolean;
  maxPayload: number;
  tls: TlsConfig | undefined;
  proxy: ProxyConfig | undefined;
  threads: number;
  workerUrl: URL | undefined;
  /** Browsers, backend `shared`: what hosts the shared sockets. */
  sharing: Sharing;
  heartbeat: number;
  /** The least level of host log entries wanted, and where they go (undefined: the console). */
  log: { level: LogLevel; to: ((entry: LogEntry) => void) | undefined };
  /** The pipeline module's URL (resolved as `workerUrl` is). */
  pipeline: URL | undefined;
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn'];
const SHARINGS: readonly Sharing[] = ['auto', 'shared-worker', 'leader'];

function resolveLog(value: unknown): ResolvedOptions['log'] {
  if (value === undefined) return { level: 'warn', to: undefined };
  if (typeof value === 'function') return { level: 'debug', to: value as (entry: LogEntry) => void };
  if (!LOG_LEVELS.includes(value as LogLevel)) throw optionError('log', "'debug', 'info' or 'warn', or a function");
  return { level: value as LogLevel, to: undefined };
}

const optionError = (name: string, expected: string): TypeError =>
  new TypeError(`createQQ: options.${name} must be ${expected}`);

const isPositiveInteger = (value: unknown): value is number => Number.isInteger(value) && (value as number) > 0;

/**
 * A script's URL option (`workerUrl`, `pipeline`) resolved once, as the platform reads it
 * (browsers: against the page; Node: a file URL or path). @throws TypeError when it is not one.
 */
function resolveUrlOption(name: string, value: unknown, platform: Platform): URL | undefined {
  if (value === undefined) return undefined;
  const what = platform.workerUrl.what;
  const refuse = () => optionError(name, name === 'workerUrl' ? what : what.replace(' (of node-thread.js)', ''));
  if (!(value instanceof URL) && typeof value !== 'string') throw refuse();
  try {
    return platform.workerUrl.resolve(value);
  } catch {
    throw refuse();
  }
}

const isPem = (value: unknown): boolean =>
  typeof value === 'string' || (typeof value === 'object' && value !== null && ArrayBuffer.isView(value));
const pemText = (value: unknown): string =>
  typeof value === 'string' ? value : new TextDecoder().decode(value as ArrayBufferView);

function resolveTls(tls: unknown): TlsConfig | undefined {
  if (tls === undefined) return undefined;
  if (!isOptionsObject(tls)) throw optionError('tls', 'an object');
  const out: TlsConfig = {};
  const { ca, cert, key, rejectUnauthorized } = tls;
  if (ca !== undefined) {
    const list = Array.isArray(ca) ? ca : [ca];
    if (!list.every(isPem)) throw optionError('tls.ca', 'a PEM string or Buffer, or an array of them');
    out.ca = list.map(pemText);
  }
  if (cert !== undefined) {
    if (!isPem(cert)) throw optionError('tls.cert', 'a PEM string or Buffer');
    out.cert = pemText(cert);
  }
  if (key !== undefined) {
    if (!isPem(key)) throw optionError('tls.key', 'a PEM string or Buffer');
    out.key = pemText(key);
  }
  if (rejectUnauthorized !== undefined) {
    if (typeof rejectUnauthorized !== 'boolean') throw optionError('tls.rejectUnauthorized', 'a boolean');
    out.rejectUnauthorized = rejectUnauthorized;
  }
  return out;
}

/**
 * The proxy URL as the host needs it: host, port (80 when the URL names none) and the decoded
 * credentials. A wrong one throws a TypeError that does not repeat it (it may hold a password).
 */
function resolveProxy(value: unknown, noProxy: unknown): ProxyConfig | undefined {
  const bypass = resolveNoProxy(noProxy);
  if (value === undefined || value === '') return undefined;
  const refuse = () => optionError('proxy', 'an http: URL (http://[user:password@]host[:port])');
  if (!(value instanceof URL) && typeof value !== 'string') throw refuse();
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' || url.hostname === '') throw refuse();
    const { hostname, port, username, password } = url;
    const proxy: ProxyConfig = {
      host: normalizeHost(hostname),
      port: port === '' ? 80 : Number(port),
    };
    if (username !== '' || password !== '') {
      proxy.credentials = `${decodeURIComponent(username)}:${decodeURIComponent(password)}`;
    }
    if (bypass !== undefined) proxy.bypass = bypass;
    return proxy;
  } catch {
    throw refuse();
  }
}

/** `heartbeat` in ms, 0 for never (0, Infinity or past what a timer keeps). */
function resolveHeartbeat(value: unknown): number {
  if (value === undefined) return DEFAULT_HEARTBEAT_MS;
  if (value === 0 || value === Number.POSITIVE_INFINITY) return 0;
  if (!Number.isInteger(value) || (value as number) < MIN_HEARTBEAT_MS) {
    throw optionError('heartbeat', `an integer of at least ${MIN_HEARTBEAT_MS} (ms), or 0 for never`);
  }
  return (value as number) > MAX_TIMER_MS ? 0 : (value as number);
}

/** `noProxy` parsed (no-proxy.ts); undefined when none. */
function resolveNoProxy(value: unknown): ProxyConfig['bypass'] {
  if (value === undefined || value === '') return undefined;
  const isList = Array.isArray(value) && value.every((entry) => typeof entry === 'string');
  const parsed = typeof value === 'string' || isList ? parseNoProxy(value as string | string[]) : undefined;
  if (parsed === undefined) {
    throw optionError('noProxy', "hosts as NO_PROXY lists them ('*', name[:port], .domain, IP[:port], IP/prefix)");
  }
  return parsed;
}

/** 'a', 'b' or 'c' */
const oneOf = (names: readonly string[]) =>
  `${names
    .slice(0, -1)
    .map((n) => `'${n}'`)
    .join(', ')} or '${names.at(-1)}'`;

/** Validates createQQ options; a wrong one throws a TypeError naming it. */
export function resolveOptions(options: unknown, platform: Platform): ResolvedOptions {
  if (options === undefined) options = {};
  if (!isOptionsObject(options)) throw new TypeError('createQQ: options must be an object');
  const o = options as QQOptions & Record<string, unknown>;
  const backend = o.backend ?? 'auto';
  const names = ['auto', ...platform.backends];
  if (typeof backend !== 'string' || !names.includes(backend)) throw optionError('backend', oneOf(names));
  const workerUrl = resolveUrlOption('workerUrl', o.workerUrl, platform);
  if (o.maxConnections !== undefined && !isPositiveInteger(o.maxConnections)) {
    throw optionError('maxConnections', 'a positive integer');
  }
  if (o.connectTimeout !== undefined && !isPositiveInteger(o.connectTimeout)) {
    throw optionError('connectTimeout', 'a positive integer (ms)');
  }
  if (
    o.allowedHosts !== undefined &&
    !(Array.isArray(o.allowedHosts) && o.allowedHosts.every((h) => typeof h === 'string' && h !== ''))
  ) {
    throw optionError('allowedHosts', 'an array of host names');
  }
  if (o.requireSecure !== undefined && typeof o.requireSecure !== 'boolean') {
    throw optionError('requireSecure', 'a boolean');
  }
  if (o.maxPayload !== undefined && !isPositiveInteger(o.maxPayload)) {
    throw optionError('maxPayload', 'a positive integer (bytes)');
  }
  if (o.threads !== undefined && !isPositiveInteger(o.threads)) throw optionError('threads', 'a positive integer');
  const sharing = o.sharing ?? 'auto';
  if (!SHARINGS.includes(sharing)) throw optionError('sharing', oneOf(SHARINGS));
  const heartbeat = resolveHeartbeat(o.heartbeat);
  for (const [name, why] of Object.entries(platform.ignoredOptions)) {
    if (o[name] !== undefined) console.warn(`qq-socket-worker: ${why}; ${name} is ignored`);
  }
  return {
    backend: backend === 'auto' ? platform.auto() : backend,
    maxConnections: o.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    connectTimeout: o.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS,
    allowedHosts: o.allowedHosts === undefined ? undefined : [...o.allowedHosts],
    requireSecure: o.requireSecure ?? false,
    maxPayload: o.maxPayload ?? DEFAULT_MAX_PAYLOAD,
    tls: resolveTls(o.tls),
    proxy: resolveProxy(o.proxy, o.noProxy),
    threads: o.threads ?? 1,
    workerUrl,
    sharing,
    heartbeat,
    log: resolveLog(o.log),
    pipeline: resolveUrlOption('pipeline', o.pipeline, platform),
  };
}

/** Url and header functions of a task with `reconnect`: called before each attempt. */
export interface Credentials {
  url?: () => unknown;
  header?: () => unknown;
}

/** connectSocket's `pipeline`: a stage's name; any but the built-in `json` needs a module. */
function checkPipeline(value: unknown, module: URL | undefined): Checked<string | undefined> {
  if (value === undefined) return { ok: true, value: undefined };
  if (typeof value !== 'string' || value === '') {
    const got = typeof value === 'string' ? '""' : typeName(value);
    return {
      ok: false,
      errMsg: fail('connectSocket', `parameter error: parameter.pipeline should be a stage name instead of ${got}`),
    };
  }
  if (value !== 'json' && module === undefined) return { ok: false, errMsg: pipelineErrors.noModule(value) };
  return { ok: true, value };
}

/** connectSocket's `deliver`: `'frame'`, or nothing (as soon as possible). */
function checkDeliver(value: unknown): Checked<'frame' | undefined> {
  if (value === undefined || value === 'frame') return { ok: true, value };
  const got = typeof value === 'string' ? JSON.stringify(value) : typeName(value);
  return {
    ok: false,
    errMsg: fail('connectSocket', `parameter error: parameter.deliver should be "frame" instead of ${got}`),
  };
}

/** What connectSocket asks the host to open, before its id. */
export type ConnectRequest = Omit<ConnectFrame, 'type' | 'id'>;

/** The connectSocket options after validation, or the errMsg to fail with. */
export function checkConnect(
  option: unknown,
  o: ResolvedOptions,
): { ok: true; value: ConnectRequest; credentials: Credentials | undefined } | { ok: false; errMsg: string } {
  if (!isOptionsObject(option)) return { ok: false, errMsg: errors.parameterNotObject('connectSocket', option) };
  const share = checkOptional(option, 'share', 'Boolean', false);
  const reconnect = checkReconnect(option.reconnect);
  // Functions stand for a url or headers only where there is an attempt to call them before,
  // and no share (whose identity is its url).
  const functions = reconnect.ok && reconnect.value !== undefined && share.ok && !share.value;
  const { url, header } = option as unknown as ConnectSocketOption;
  const credentials: Credentials = {};
  if (functions && typeof url === 'function') credentials.url = url;
  if (functions && typeof header === 'function') credentials.header = header;
  const checks = {
    url: credentials.url === undefined ? checkUrl(url, o) : { ok: true as const, value: '' },
    headers: credentials.header === undefined ? checkHeaders(header) : { ok: true as const, value: {} },
    protocols: checkProtocols(option.protocols),
    tcpNoDelay: checkOptional(option, 'tcpNoDelay', 'Boolean', false),
    perMessageDeflate: checkOptional(option, 'perMessageDeflate', 'Boolean', false),
    timeout: checkOptional(option, 'timeout', 'Number', o.connectTimeout),
    share,
    reconnect,
    keepalive: checkKeepalive(option.keepalive),
    pipeline: checkPipeline(option.pipeline, o.pipeline),
    deliver: checkDeliver(option.deliver),
  };
  for (const check of Object.values(checks) as Checked<unknown>[]) {
    if (!check.ok) return check;
  }
  const value = Object.fromEntries(Object.entries(checks).map(([k, c]) => [k, (c as { value: unknown }).value])) as {
    [K in keyof typeof checks]: (typeof checks)[K] extends Checked<infer T> ? T : never;
  };
  const dynamic = credentials.url !== undefined || credentials.header !== undefined;
  return {
    ok: true,
    value: { ...value, ...(dynamic ? { dynamic } : {}) },
    credentials: dynamic ? credentials : undefined,
  };
}
