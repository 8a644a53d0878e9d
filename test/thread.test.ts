// The conformance suite against the `thread` backend, in Node.
import { conformance } from './conformance.js';
import { nodeRuntime } from './helpers/node-peers.js';

conformance('thread', nodeRuntime);
