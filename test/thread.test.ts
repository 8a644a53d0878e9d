// The conformance suite against the `thread` backend, in Node.
import { conformance } from './conformance/index.js';
import { nodeRuntime } from './helpers/node-peers.js';

conformance('thread', nodeRuntime);
