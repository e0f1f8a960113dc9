"""Opens SOCKETS idle WebSockets to feria's live endpoint (a plain RFC 6455 client: the
upgrade with a Bearer token, then the server's first frame, `ready`), and reports the feria
process's resident memory before and after. Usage: live_sockets.py PORT TOKEN SOCKETS PID"""

import asyncio
import base64
import os
import sys

PORT, TOKEN, SOCKETS, PID = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
IN_FLIGHT = 200


def rss_kib():
    with open(f"/proc/{PID}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))


async def open_socket(gate):
    async with gate:
        reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET /api/notifications/live HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Authorization: Bearer {TOKEN}\r\n\r\n"
            ).encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(head.decode(errors="replace").splitlines()[0])
        first, length = await reader.readexactly(2)
        payload = await reader.readexactly(length & 0x7F)
        if first != 0x81 or b'"ready"' not in payload:
            raise RuntimeError(f"unexpected first frame {payload!r}")
        return reader, writer


async def main():
    before = rss_kib()
    gate = asyncio.Semaphore(IN_FLIGHT)
    sockets = await asyncio.gather(*(open_socket(gate) for _ in range(SOCKETS)))
    await asyncio.sleep(2)
    after = rss_kib()
    still_open = sum(1 for reader, _ in sockets if not reader.at_eof())
    per_socket = (after - before) * 1024 / SOCKETS
    print(
        f"{SOCKETS} idle live sockets ({still_open} still open after 2 s): RSS {before / 1024:.1f} MB before, "
        f"{after / 1024:.1f} MB after, {per_socket / 1024:.1f} KiB per connection"
    )
    for _, writer in sockets:
        writer.close()


asyncio.run(main())
