// The conformance suite against the `inline` backend, in Node.
import { conformance } from './conformance.js';
import { nodeRuntime } from './helpers/node-peers.js';

conformance('inline', nodeRuntime);
