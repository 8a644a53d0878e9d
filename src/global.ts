/** Installs `globalThis.qq = createQQ()` so unchanged mini-program code runs. */
import { createQQ } from './index.js';
import type { QQ } from './shared/types.js';

declare global {
  var qq: QQ;
}

globalThis.qq = createQQ();
