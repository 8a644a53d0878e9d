/** The in-thread ports that stand in for a MessageChannel where a runtime has none (channel.ts). */
import { describe, expect, it } from 'vitest';
import { LocalPort } from '../src/main/channel.js';

const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('LocalPort', () => {
  it('delivers in order, after the posting code, and holds messages until the port starts', async () => {
    const { port1, port2 } = LocalPort.pair();
    const got: unknown[] = [];
    port1.postMessage('a');
    port1.postMessage({ b: 1 });
    await turn();
    port2.addEventListener('message', (event) => got.push(event.data)); // starts it
    port1.postMessage('c');
    expect(got).toEqual([]); // never within postMessage
    await turn();
    expect(got).toEqual(['a', { b: 1 }, 'c']);
  });

  it('passes messages as they are, both ways', async () => {
    const { port1, port2 } = LocalPort.pair();
    const sent = { bytes: new ArrayBuffer(4) };
    const back = new Promise((resolve) => port1.addEventListener('message', (e) => resolve(e.data)));
    port2.addEventListener('message', (e) => port2.postMessage(e.data));
    port1.postMessage(sent);
    expect(await back).toBe(sent);
  });

  it('goes on after a listener throws: the next message still arrives', async () => {
    const { port1, port2 } = LocalPort.pair();
    const got: unknown[] = [];
    const thrown: unknown[] = [];
    const onError = (error: unknown) => thrown.push(error);
    process.on('uncaughtException', onError);
    try {
      port2.addEventListener('message', (event) => {
        if (event.data === 'bad') throw new Error('listener failed');
        got.push(event.data);
      });
      port1.postMessage('bad');
      port1.postMessage('good');
      await turn();
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(got).toEqual(['good']);
    expect(thrown).toEqual([new Error('listener failed')]);
  });

  it('closing either end stops what is posted after; the other end still gets what it had', async () => {
    const { port1, port2 } = LocalPort.pair();
    const got: unknown[] = [];
    port2.addEventListener('message', (event) => got.push(event.data));
    port1.postMessage('before');
    port1.close();
    port1.postMessage('after (closed sender)');
    port2.postMessage('to a closed port');
    await turn();
    expect(got).toEqual(['before']);

    const pair = LocalPort.pair();
    const late: unknown[] = [];
    pair.port2.addEventListener('message', (event) => late.push(event.data));
    pair.port1.postMessage('queued');
    pair.port2.close(); // the receiver closing drops what it had not delivered
    await turn();
    expect(late).toEqual([]);
  });

  it('stops calling a listener once removed', async () => {
    const { port1, port2 } = LocalPort.pair();
    const got: unknown[] = [];
    const listener = (event: { data: unknown }) => got.push(event.data);
    port2.addEventListener('message', listener);
    port1.postMessage(1);
    await turn();
    port2.removeEventListener('message', listener);
    port1.postMessage(2);
    await turn();
    expect(got).toEqual([1]);
  });
});
