"""A static file server for the crawl benchmark when nginx is not installed.

Every file under the document root is read into memory before the first request, and each
answer is one ``writer.write`` of prebuilt bytes on an asyncio loop with keep-alive, so the
server costs a small fraction of what the crawler spends per page. It logs ``<epoch> <path>``
per request, the same two fields the benchmark's nginx log format writes.

    python benchmarks/static_server.py DOCROOT PORT LOGFILE
"""

from __future__ import annotations

import asyncio
import mimetypes
import sys
import time
from pathlib import Path


def load(root: Path) -> dict[str, bytes]:
    """Whole HTTP responses by path, headers included."""
    answers = {}
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        body = path.read_bytes()
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        head = f"HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n\r\n"
        answers["/" + path.relative_to(root).as_posix()] = head.encode() + body
    return answers


NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


async def serve(answers: dict[str, bytes], port: int, log: list[str]) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1].decode()
                path = target.split("?", 1)[0]
                log.append(f"{time.time():.3f} {target}")
                writer.write(answers.get(path, NOT_FOUND))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=256)
    async with server:
        await server.serve_forever()


def main() -> None:
    root, port, log_path = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    log: list[str] = []

    async def flush() -> None:
        while True:
            await asyncio.sleep(0.5)
            if log:
                lines, log[:] = list(log), []
                with log_path.open("a") as handle:
                    handle.write("\n".join(lines) + "\n")

    async def run() -> None:
        await asyncio.gather(serve(load(root), port, log), flush())

    asyncio.run(run())


if __name__ == "__main__":
    main()
