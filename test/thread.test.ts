// The conformance suite against the `thread` backend.
import { conformance } from './conformance.js';

conformance('thread');
