// The browser bench's keyed stage (the tick rows): runs in the host. Parses each tick and emits
// only its price and send time, keyed by symbol: a page that falls behind gets the newest tick per
// symbol, never a backlog. `n` counts the ticks parsed, so the bench can tell ingest from delivery.
export function latest(ctx) {
  let n = 0;
  return {
    message(data) {
      const tick = JSON.parse(data);
      n++;
      ctx.emit({ price: tick.price, at: tick.at, n }, tick.symbol);
    },
  };
}
