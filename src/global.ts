/** Installs `globalThis.qq = createQQ()` so unchanged mini-program code runs. */
import { createQQ } from './index.js';
import type { QQ } from './shared/types.js';

declare global {
  /** The `qq` object that `qq-socket-worker/global` installs: `createQQ()` with default options. */
  var qq: QQ;
}

globalThis.qq = createQQ();
