/**
 * The host's Outbox (outbox.ts): acknowledgements of one task merge only with the same outcome,
 * so a failed send among successful ones in one batch keeps its own errMsg, in its place.
 */
import { describe, expect, it } from 'vitest';
import { type Batch, readBatch } from '../src/shared/batch.js';
import type { HostEvent } from '../src/shared/protocol.js';
import { Outbox } from '../src/worker/outbox.js';

/** An Outbox whose turn ends when the test says, and the control frames of what it posted. */
function outbox() {
  const posted: HostEvent[][] = [];
  let turnEnd: (() => void) | undefined;
  const box = new Outbox(
    (batch: Batch<HostEvent>) => {
      const control: HostEvent[] = [];
      readBatch(
        batch,
        () => {},
        ({ at: _at, ...frame }: HostEvent & { at?: number }) => control.push(frame as HostEvent),
      );
      posted.push(control);
    },
    (_batch, error) => {
      throw error;
    },
    (fn) => {
      turnEnd = fn;
    },
  );
  return { box, posted, endTurn: () => turnEnd?.() };
}

describe('Outbox acknowledgements', () => {
  it('reports a failed send between successful ones in one batch with its own errMsg, in order', () => {
    const { box, posted, endTurn } = outbox();
    const aborted = 'sendSocketMessage:fail WebSocket closed before the data was sent';
    box.ack(1);
    box.ack(1);
    box.ack(2);
    box.ack(1, aborted);
    box.ack(1, aborted);
    box.ack(1);
    box.ack(2, aborted);
    endTurn();
    expect(posted).toEqual([
      [
        { type: 'sent', id: 1, count: 2 },
        { type: 'sent', id: 2, count: 1 },
        { type: 'sent', id: 1, count: 2, errMsg: aborted },
        { type: 'sent', id: 1, count: 1 },
        { type: 'sent', id: 2, count: 1, errMsg: aborted },
      ],
    ]);
  });

  it('starts merging afresh in the next batch', () => {
    const { box, posted, endTurn } = outbox();
    box.ack(1);
    endTurn();
    box.ack(1);
    box.ack(1);
    endTurn();
    expect(posted).toEqual([[{ type: 'sent', id: 1, count: 1 }], [{ type: 'sent', id: 1, count: 2 }]]);
  });
});
