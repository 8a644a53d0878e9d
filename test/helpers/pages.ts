/**
 * The files in test/browser/ that drive pages themselves (not through vitest's browser mode) run
 * their tests once per engine with this: a describe block per engine, with that engine launched
 * for the block (one browser per engine per file) through the adapter in engines.ts, and skipped,
 * saying what to install, where the machine lacks it.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import {
  ENGINES,
  type Engine,
  type EngineName,
  engineMissing,
  type LaunchOptions,
  launchEngine,
  type Tab,
} from './engines.js';

export interface EngineBlock {
  name: EngineName;
  /** The block's browser, launched before its first test. */
  engine(): Engine;
  /**
   * The browser's first tab, open (on about:blank until a test goes elsewhere) for the whole
   * block: a test closes the tabs it opens, and closing WebKit's last one would end its session.
   */
  page(): Tab;
}

const launched = <T>(value: T | undefined): T => {
  if (value === undefined) throw new Error('the engine did not launch');
  return value;
};

/** `body`'s tests, in a describe block per engine named `<title> (<engine>)`. */
export function describeEachEngine(title: string, body: (block: EngineBlock) => void, options?: LaunchOptions): void {
  for (const name of ENGINES) {
    const missing = engineMissing(name);
    describe.skipIf(missing !== undefined)(`${title} (${name}${missing ? `; skipped: ${missing}` : ''})`, () => {
      let engine: Engine | undefined;
      let page: Tab | undefined;
      beforeAll(async () => {
        engine = await launchEngine(name, options);
        page = await engine.newTab();
      }, 60_000);
      afterAll(async () => {
        await engine?.close();
      });
      body({
        name,
        engine: () => launched(engine),
        page: () => launched(page),
      });
    });
  }
}
