// The conformance suite against the `shared` backend with a leader tab's worker as its host
// (`sharing: 'leader'`: BroadcastChannels instead of a SharedWorker's ports), in each engine's
// vitest project (chromium, firefox, webkit).
import { conformance } from './conformance/index.js';
import { browserRuntime } from './helpers/browser-peers.js';

conformance('shared', browserRuntime, { sharing: 'leader' });
