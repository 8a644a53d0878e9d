// The conformance suite against the `worker` backend, in Chromium.
import { conformance } from './conformance/index.js';
import { browserRuntime } from './helpers/browser-peers.js';

conformance('worker', browserRuntime);
