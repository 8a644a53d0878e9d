// The conformance suite against the `shared` backend, in Chromium.
import { conformance } from './conformance/index.js';
import { browserRuntime } from './helpers/browser-peers.js';

conformance('shared', browserRuntime);
