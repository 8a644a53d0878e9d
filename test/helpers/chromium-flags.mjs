// Debian's Chromium and the flags that work on a machine without network, shared by every
// launcher: the test helpers, vitest's browser mode and the browser bench (plain JavaScript so
// that bench/web.mjs, run by Node as it is, can import it too; types in chromium-flags.d.mts).
export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox', // CI runs as root
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
];
