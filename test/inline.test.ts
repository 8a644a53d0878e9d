// The conformance suite against the `inline` backend.
import { conformance } from './conformance.js';

conformance('inline');
