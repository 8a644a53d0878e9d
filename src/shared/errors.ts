/**
 * Every errMsg of the API, built in one place (validate.ts builds the parameter errors of single
 * options with {@link fail}). docs/semantics.md "Every errMsg" lists each of them.
 */

/** The API names that prefix an errMsg. */
export type ApiName = 'connectSocket' | 'sendSocketMessage' | 'closeSocket' | 'SocketTask.send';

/** `"<api>:ok"` */
export const ok = (api: ApiName): string => `${api}:ok`;

/** `"<api>:fail <detail>"` */
export const fail = (api: ApiName, detail: string): string => `${api}:fail ${detail}`;

/** The JavaScript type names the mini-program runtime uses in parameter errors. */
export type TypeName =
  | 'Undefined'
  | 'Null'
  | 'Number'
  | 'Boolean'
  | 'String'
  | 'Object'
  | 'Array'
  | 'Function'
  | 'Symbol'
  | 'BigInt';

/** Names the type of `value` as the mini-program runtime does in `parameter error` messages. */
export function typeName(value: unknown): TypeName {
  if (value === undefined) return 'Undefined';
  if (value === null) return 'Null';
  if (Array.isArray(value)) return 'Array';
  switch (typeof value) {
    case 'number':
      return 'Number';
    case 'boolean':
      return 'Boolean';
    case 'string':
      return 'String';
    case 'function':
      return 'Function';
    case 'symbol':
      return 'Symbol';
    case 'bigint':
      return 'BigInt';
    default:
      return 'Object';
  }
}

export const errors = {
  /** The options argument is not a plain object. */
  parameterNotObject: (api: ApiName, value: unknown) =>
    fail(api, `parameter error: parameter should be Object instead of ${typeName(value)}`),
  /** `url` is not a string. */
  urlNotString: (value: unknown) =>
    fail('connectSocket', `parameter error: parameter.url should be String instead of ${typeName(value)}`),
  invalidUrl: (url: string) => fail('connectSocket', `invalid url "${url}"`),
  notInDomainList: () => fail('connectSocket', 'url not in domain list'),
  refererNotAllowed: () => fail('connectSocket', 'header Referer is not allowed'),
  /** The header value is deliberately left out: it may be a secret. */
  invalidHeader: (name: string) => fail('connectSocket', `invalid header ${name}`),
  exceedMaxConcurrent: (max: number) => fail('connectSocket', `exceed max concurrent count ${max}`),
  connectTimeout: () => fail('connectSocket', 'timeout'),
  /** Extension: `connectSocket` after `destroy()`. */
  destroyed: () => fail('connectSocket', 'qq instance is destroyed'),

  dataType: () => fail('sendSocketMessage', 'data must be string or ArrayBuffer'),
  /** Extension: `transfer: true` on a buffer that cannot be moved (already detached). */
  dataDetached: () => fail('sendSocketMessage', 'data is a detached ArrayBuffer'),
  taskNotOpen: () => fail('SocketTask.send', 'SocketTask.readyState is not OPEN'),
  notConnected: (api: 'sendSocketMessage' | 'closeSocket') => fail(api, 'WebSocket is not connected'),
  /** Extension: a send accepted while OPEN whose frame never reached the socket. */
  sendAborted: () => fail('sendSocketMessage', 'WebSocket closed before the data was sent'),
  /** Extension (`pipeline`): a value to send that structured clone cannot copy. */
  dataNotCloneable: (why: string) => fail('sendSocketMessage', `data could not be cloned: ${why}`),
  /** Extension (`reconnect`): the sends waiting for a connection would pass `queue` bytes. */
  sendQueueFull: (queue: number) => fail('sendSocketMessage', `send queue full (${queue} bytes)`),

  invalidCode: () => fail('closeSocket', 'invalid code'),
  reasonNotString: () => fail('closeSocket', 'reason must be a string'),
  reasonTooLong: () => fail('closeSocket', 'reason must not exceed 123 UTF-8 bytes'),
} as const;

/** onClose reason for a connection that ended without a close frame. */
export const ABNORMAL_CLOSURE_REASON = 'abnormal closure';

/** onError errMsg when a connection drops without a close frame and no socket error said why. */
export const CONNECTION_LOST = 'connection closed without a close frame';

/**
 * Staying connected (`reconnect`, `keepalive`): what onReconnect and onError say of a loss, an
 * attempt that could not start, and the end of the retries.
 */
export const staying = {
  /** A server that closed a connection of a reconnecting task with a close frame. */
  serverClosed: (code: number, reason: string) =>
    `the server closed the connection: ${code}${reason === '' ? '' : ` ${reason}`}`,
  /** Nothing came from the server for `ms` ms, a probe included (keepalive.ts). */
  keepaliveTimeout: (ms: number) => `keepalive timeout: no frame from the server for ${ms} ms`,
  /** `retries` ran out; `last`: why the last attempt failed. */
  gaveUp: (retries: number, last: string) => `reconnect gave up after ${retries} attempts: ${last}`,
  /** A `url` or `header` function threw or rejected. */
  functionFailed: (name: 'url' | 'header', why: string) => `${name}() failed: ${why}`,
  /** The browser closed the sockets of a page put in the back/forward cache. */
  backForwardCache: () => 'the page was put in the back/forward cache',
} as const;

/** Pipelines (`connectSocket({ pipeline })`): a stage that cannot start, or that fails. */
export const pipelineErrors = {
  /** A stage other than the built-in `json`, on an instance without a pipeline module. */
  noModule: (name: string) => fail('connectSocket', `pipeline "${name}" needs createQQ({ pipeline })`),
  loadFailed: (url: string, why: string) => `pipeline ${url} failed to load: ${why}`,
  notFound: (name: string, url: string) => `pipeline "${name}" not found in ${url}`,
  /** A handler (`message`, `send`, `open`, `close`; `stage`: the factory) threw, or emitted what cannot be cloned. */
  threw: (name: string, handler: string, error: unknown) =>
    `pipeline "${name}" ${handler} threw: ${String((error as Error)?.message ?? error)}`,
  /** `task.send({ data })` of what is not a string or bytes, to a stage without `send`. */
  cannotSend: (name: string) =>
    fail('sendSocketMessage', `pipeline "${name}" has no send to encode data that is not a string or ArrayBuffer`),
  /** The stage's `send` returned what is not a string or bytes. */
  badEncoding: (name: string) =>
    fail('sendSocketMessage', `pipeline "${name}" send must return a string or ArrayBuffer`),
} as const;

/** onError errMsg when ws dropped a peer that sent more pings than it could answer (its ping-flood guard). */
export const PING_FLOOD = 'too many pings awaiting a pong: the server is flooding pings';

/**
 * onError errMsg when a socket that cannot stop reading (a browser's) got too far ahead of a page
 * that stopped taking its messages (frozen, or blocked for long).
 */
export const fellBehind = (items: number, mib: number): string =>
  `the page fell behind: over ${items} messages or ${mib} MiB were waiting for it`;

/**
 * onError errMsg when the host could not post a batch of this task's events to the page (the
 * messages in it are lost, so the task is closed: nothing is lost silently).
 */
export const undeliverable = (why: string): string => `socket host could not deliver events: ${why}`;

/** onError errMsg prefix when the host (worker) that owned the socket went away. */
export const hostDied = (why: string): string => `socket host died: ${why}`;

/** Said where a runtime has no Web Worker: in a host's death, and in `auto`'s warning. */
export const NO_WORKERS = 'this runtime has no Web Worker';

/**
 * The `<why>` of {@link hostDied} that the library words itself: why a host went away or never
 * started (docs/semantics.md "Host death" lists them). The others are the runtime's own
 * messages (an error that ended the thread or worker, a constructor that threw).
 */
export const hostDeath = {
  /** Node: the host's script (the package's node-thread.js, or `workerUrl`) is not there. */
  noScriptFile: (url: string) => `the worker script ${url} failed to load: no such file`,
  /**
   * Node's permission model refused a thread: its `message`, plus what to do (Node 22 and 24
   * name the flag themselves: then only the other way out is added).
   */
  threadsRefused: (message: string) =>
    `${message} (${message.includes('--allow-worker') ? '' : 'run node with --allow-worker, '}or use backend 'inline')`,
  /**
   * A worker script did not load. A cross-origin isolated page (`isolated`) runs a dedicated
   * worker only if its script is served with a COEP of its own, and the browser does not say so.
   */
  workerScript: (url: string, isolated = false) =>
    `the worker script ${url} failed to load${
      isolated
        ? ' (this page is cross-origin isolated: a worker script must be served with Cross-Origin-Embedder-Policy: require-corp or credentialless)'
        : ''
    }`,
  /** Backend `worker` or `shared` where there is no Web Worker. */
  noWorkers: () => `${NO_WORKERS} (use backend 'inline')`,
  /**
   * Appended to the browser's refusal of a worker's URL where the page's Trusted Types refused
   * the library's policy (`name`).
   */
  trustedTypes: (name: string) => `the page's CSP trusted-types must allow the policy '${name}'`,
  sharedScript: (url: string) => `the shared worker script ${url} failed to load`,
  /** The shared worker's life lock came free. */
  sharedWorkerDied: () => 'the shared worker died',
  /** Insecure origins (no Web Locks; heartbeat.ts): the shared worker stopped beating. */
  sharedWorkerSilent: (ms: number) => `the shared worker did not answer for ${ms} ms`,
  /** `sharing: 'leader'`: the leader tab, whose worker held the shared sockets, closed, crashed or navigated. */
  leaderGone: () => 'the leader tab went away',
  /** `sharing: 'leader'`: no leader's worker took the tab's join in `ms`. */
  noLeader: (ms: number) => `no leader tab answered within ${ms} ms`,
  /** A host of another build refused this facade. */
  protocolMismatch: (host: number, facade: number | undefined) =>
    `protocol version mismatch: host ${host}, facade ${facade}`,
  /** The host's thread task or worker ended without its `ended` frame. */
  endedUnexpectedly: () => 'the host ended unexpectedly',
  /** The host ended (its `ended` frame) before this task got its close. */
  ended: () => 'the host ended',
} as const;

/** onClose reason on every open socket when `destroy()` closes it. */
export const DESTROY_REASON = 'qq instance destroyed';

/**
 * Insecure origins (no Web Locks; heartbeat.ts): the close reason of a tab's sockets when the
 * shared worker took the tab for gone (the other way round: {@link hostDeath}.sharedWorkerSilent).
 */
export const tabSilent = (ms: number): string => `the tab did not answer the shared worker for ${ms} ms`;
