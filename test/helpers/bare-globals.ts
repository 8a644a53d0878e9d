/**
 * Takes from this page what a DOM emulation lacks (jsdom under a test runner: no workers, no
 * MessageChannel, no structuredClone, no TextEncoder/TextDecoder), before the library loads.
 * Imported first by bare.browser.test.ts.
 */
const MISSING = ['Worker', 'SharedWorker', 'MessageChannel', 'structuredClone', 'TextEncoder', 'TextDecoder'];

for (const name of MISSING) Reflect.deleteProperty(globalThis, name);

export const missing = MISSING.filter((name) => name in globalThis);
