// The conformance suite against the `inline` backend, in Node.
import { conformance } from './conformance/index.js';
import { nodeRuntime } from './helpers/node-peers.js';

conformance('inline', nodeRuntime);
