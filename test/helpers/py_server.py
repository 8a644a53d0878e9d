"""Echo peer for the conformance suite, on Debian's python3-websockets (an independent implementation).

Paths: /echo echoes text and binary; /close/<code>/<reason> closes with that code right after open;
/mixed/<n> sends n messages (text, binary, fragmented text, pings) as test/conformance/peers.ts expects,
then closes with 1000 "mixed done"; /burst/<n> sends n text messages b0.. as fast as the client
reads them, then echoes (it answers pings all along, as every path does); /book/<n>/<k> sends n
order-book deltas over k symbols (a trade every tenth), then {"e":"done"}, then echoes.
Prints "PORT <n>" once listening on 127.0.0.1.
"""
import asyncio
import signal
import sys
import urllib.parse

import websockets


async def handler(ws, path=None):
    path = path if path is not None else ws.path
    parts = path.split("?")[0].split("/")
    if len(parts) >= 3 and parts[1] == "close":
        reason = urllib.parse.unquote(parts[3]) if len(parts) > 3 else ""
        await ws.close(int(parts[2]), reason)
        return
    if len(parts) >= 3 and parts[1] == "mixed":
        for i in range(int(parts[2])):
            kind = i % 4
            if kind == 0:
                await ws.send(f"m{i}:" + "\u00e9" * (i % 50))
            elif kind == 1:
                await ws.send(bytes((i + j) & 0xFF for j in range(i * 37 % 3000)))
            elif kind == 2:
                await ws.send([f"f{i}a", f"-{i}b", "\u00e9"])  # one message in three frames
            else:
                await ws.ping()
                await ws.send(bytes([i & 0xFF]) * (i % 200))
        await ws.close(1000, "mixed done")
        return
    if len(parts) >= 4 and parts[1] == "book":
        # n order-book deltas over k symbols, a trade every 10th, then "done"; then echoes.
        n, k = int(parts[2]), int(parts[3])
        for i in range(n):
            if i % 10 == 9:
                await ws.send('{"e":"trade","p":"1.0"}')
            await ws.send('{"e":"depthUpdate","s":"S%d","u":%d,"b":[["27123.45","0.0123"]],"a":[["27123.46","0.5"]]}' % (i % k, i))
        await ws.send('{"e":"done"}')
    if len(parts) >= 3 and parts[1] == "burst":
        for i in range(int(parts[2])):
            await ws.send(f"b{i}")
    try:
        async for message in ws:
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass


async def main():
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
