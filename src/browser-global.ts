/**
 * Browsers: installs `globalThis.qq = createQQ()` (the `worker` backend) so unchanged
 * mini-program code runs. The build keeps `./browser.js` as an import of `./index.js` beside it,
 * so a page that imports both shares one module.
 */
import { createQQ } from './browser.js';

// `globalThis.qq` is declared in global.ts, the types this entry shares.
globalThis.qq = createQQ();
