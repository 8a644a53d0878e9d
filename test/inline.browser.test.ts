// The conformance suite against the `inline` backend, in Chromium.
import { conformance } from './conformance/index.js';
import { browserRuntime } from './helpers/browser-peers.js';

conformance('inline', browserRuntime);
