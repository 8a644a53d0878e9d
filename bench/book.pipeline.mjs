// The bench's keyed stage (the 'book' rows): runs in the host. Parses each order-book delta,
// keeps nothing but its top of book, and emits it keyed by symbol: a page that falls behind
// gets the latest per symbol, not a backlog.
export function book(ctx) {
  return {
    message(data) {
      const d = JSON.parse(data);
      if (d.e === 'done') ctx.emit({ done: true });
      else if (d.e === 'depthUpdate') ctx.emit({ s: d.s, u: d.u, bid: d.b[0], ask: d.a[0] }, d.s);
    },
  };
}
