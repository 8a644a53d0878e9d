// The conformance suite against the `shared` backend, in each engine's vitest project (chromium, firefox, webkit).
import { conformance } from './conformance/index.js';
import { browserRuntime } from './helpers/browser-peers.js';

conformance('shared', browserRuntime);
