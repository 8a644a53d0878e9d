/**
 * What a server that breaks a wire rule gets: invalid UTF-8, a forbidden close code, a message
 * over maxPayload (docs/semantics.md "Wire rules").
 */
import { describe, expect, it } from 'vitest';
import { type Recorded, record } from '../helpers/record.js';
import type { Context } from './context.js';

export function wireRulesSuite(ctx: Context): void {
  const { backend, browser, engine, makeQQ } = ctx;
  describe(`wire rules (${backend})`, () => {
    /** The events of a server that breaks a wire rule. Browsers hide which rule: error, then 1006. */
    const broken = (errMsg: string, code: number): Recorded[] =>
      browser
        ? [
            { event: 'error', errMsg: 'WebSocket error' },
            { event: 'close', code: 1006, reason: 'abnormal closure' },
          ]
        : [
            { event: 'error', errMsg },
            { event: 'close', code, reason: '' },
          ];

    /** The events of a task whose server writes `hex` once the task is open. */
    const afterOpen = async (hex: string): Promise<Recorded[]> => {
      const { task, rec } = await ctx.open(makeQQ(), `/after-message/raw/${hex}`);
      task.send({ data: 'go' });
      return rec.closed;
    };

    it('closes with 1007 after invalid UTF-8 in a text frame', async () => {
      const events = await afterOpen('8102c328'); // FIN text, 2 bytes: C3 28
      expect(events.slice(1)).toEqual(broken('Invalid WebSocket frame: invalid UTF-8 sequence', 1007));
      expect(events[0]).toMatchObject({ event: 'open' });
    });

    it('closes with 1002 after a close code that RFC 6455 forbids on the wire (Firefox: a clean close 1005)', async () => {
      const events = await afterOpen('880203ed'); // close, code 1005
      expect(events.slice(1)).toEqual(
        engine === 'firefox'
          ? // Firefox takes the close frame as it is, with no error: a task cannot tell it from a
            // close frame without a status (docs/browsers.md "What differs from Node").
            [{ event: 'close', code: 1005, reason: '' }]
          : broken('Invalid WebSocket frame: invalid status code 1005', 1002),
      );
      expect(events[0]).toMatchObject({ event: 'open' });
    });

    it('closes with 1009 after a message over maxPayload, binary or text; a message at it passes', async () => {
      const qq = makeQQ({ maxPayload: 1000 });
      const over = [
        qq.connectSocket({ url: `${ctx.server.url}/bytes/1001` }),
        // Text over the limit: 100 × 'é' = 200 UTF-8 bytes, echoed back, against a limit of 150.
        makeQQ({ maxPayload: 150 }).connectSocket({ url: `${ctx.server.url}/echo` }),
      ];
      const recs = over.map(record);
      await recs[1]?.opened;
      over[1]?.send({ data: 'é'.repeat(100) });
      for (const rec of recs) {
        const events = await rec.closed;
        expect(events.map((e) => e.event)).toEqual(['open', 'error', 'close']);
        expect(events[1]).toEqual({ event: 'error', errMsg: 'Max payload size exceeded' });
        expect(events.at(-1)).toEqual({ event: 'close', code: 1009, reason: '' });
      }
      const at = qq.connectSocket({ url: `${ctx.server.url}/bytes/1000` });
      const rec = record(at);
      expect(((await rec.messages(1))[0] as ArrayBuffer).byteLength).toBe(1000);
      at.send({ data: 'é'.repeat(500) }); // 1000 bytes, in 500 UTF-16 units
      expect(await rec.messages(2)).toEqual([expect.any(ArrayBuffer), 'é'.repeat(500)]);
    });
  });
}
