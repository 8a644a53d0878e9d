/**
 * A vitest browser provider over engines.ts: vitest's browser mode (its pages, the browser
 * commands that reach the suite's servers) in any engine the adapter drives, where vitest's own
 * providers cannot (Playwright does not drive a stock Firefox; webdriverio's wants geckodriver).
 * The provider only opens vitest's page in a tab; everything else goes through vitest's own
 * connection to that page, as with every provider.
 */
import { defineBrowserProvider } from '@vitest/browser';
import type { BrowserProvider, BrowserProviderOption } from 'vitest/node';
import { type Engine, type EngineName, launchEngine, type Tab } from './engines.js';

class EngineProvider implements BrowserProvider {
  readonly name: string;
  readonly supportsParallelism = false;
  private engine: Promise<Engine> | undefined;
  private readonly tabs = new Map<string, Tab>();

  constructor(private readonly engineName: EngineName) {
    this.name = `qq-engine-${engineName}`;
  }

  getCommandsContext(sessionId: string): Record<string, unknown> {
    return { engine: this.engineName, tab: this.tabs.get(sessionId) };
  }

  async openPage(sessionId: string, url: string): Promise<void> {
    // vitest's pages accept any certificate, as its Playwright provider's do (ignoreHTTPSErrors):
    // the suite's `tls: true` peer (helpers/peers.ts).
    this.engine ??= launchEngine(this.engineName, { acceptInsecureCerts: true });
    const engine = await this.engine;
    await this.tabs.get(sessionId)?.close();
    const tab = await engine.newTab();
    this.tabs.set(sessionId, tab);
    await tab.goto(url);
  }

  async close(): Promise<void> {
    const engine = this.engine;
    this.engine = undefined;
    this.tabs.clear();
    await (await engine)?.close();
  }
}

/** vitest's `browser.provider` for `engine` (firefox or webkit; chromium keeps vitest's Playwright provider). */
export function engineProvider(engine: EngineName): BrowserProviderOption {
  return defineBrowserProvider({
    name: `qq-engine-${engine}`,
    options: {},
    providerFactory: () => new EngineProvider(engine),
  });
}
