"""The console's input: typed or piped lines, read without blocking the loop, and Ctrl-C."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import io
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import TextIO


def is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError):
        return False


def read_lines(stdin: TextIO, loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """Lines of `stdin`, read in a daemon thread; None at EOF.

    A daemon thread rather than `asyncio.to_thread`: a read blocked on a terminal cannot be
    interrupted, and the default executor would make the interpreter wait for it (for the
    next Enter) after Ctrl-C. A real file descriptor is read with `os.read`, so the abandoned
    thread holds no lock on `sys.stdin` at interpreter shutdown.
    """
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def put(item: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def read() -> None:
        try:
            for line in stdin_lines(stdin):
                put(line)
        except (OSError, ValueError):
            pass
        finally:
            put(None)

    threading.Thread(target=read, name="billing-bot-demo-stdin", daemon=True).start()
    return queue


def stdin_lines(stdin: TextIO) -> Iterator[str]:
    fd = _fileno(stdin)
    if fd is None:
        for line in iter(stdin.readline, ""):
            yield line.rstrip("\r\n")
        return
    decoder = codecs.getincrementaldecoder(getattr(stdin, "encoding", None) or "utf-8")(
        errors="replace"
    )
    pending = ""
    while True:
        chunk = os.read(fd, 65536)
        pending += decoder.decode(chunk, final=not chunk)
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line.rstrip("\r")
        if not chunk:
            break
    if pending:
        yield pending.rstrip("\r")


def _fileno(stream: TextIO) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


def install_sigint(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> bool:
    """Ctrl-C leaves the console cleanly (only possible in the main thread, on Unix)."""
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        loop.add_signal_handler(signal.SIGINT, callback)
    except (NotImplementedError, RuntimeError, ValueError):
        return False
    return True
