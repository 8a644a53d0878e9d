/**
 * Pipelines in Chromium on every browser backend: the shared suite (conformance/pipelines.ts),
 * the fixture module's stages running in the Web Worker, the SharedWorker or this thread
 * (`inline`), with the same errMsgs and close codes as in Node. Pages held still, `deliver:
 * 'frame'` and a share between two tabs: browser/pipeline.test.ts.
 */
import { describe } from 'vitest';
import { pipelineSuite } from './conformance/pipelines.js';
import { browserRuntime } from './helpers/browser-peers.js';

describe.each(['worker', 'shared', 'inline'] as const)('pipelines (%s, Chromium)', (backend) => {
  pipelineSuite(backend, browserRuntime);
});
