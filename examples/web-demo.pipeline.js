// The web demo's pipeline module: runs in the shared worker, never on the page. Each tick is
// parsed there and only its price and time cross, keyed by symbol: a page that falls behind gets
// the newest tick, never a backlog (skipped says how many it replaced).
export function latest(ctx) {
  return {
    message(data) {
      const tick = JSON.parse(data);
      ctx.emit({ price: tick.price, at: tick.at }, tick.symbol);
    },
  };
}
