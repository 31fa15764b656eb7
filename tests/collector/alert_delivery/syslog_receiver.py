"""Real syslog listeners on localhost: UDP datagrams, and TCP/TLS streams with RFC 6587 octet-counted frames."""

from __future__ import annotations

import queue
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

WAIT_S = 5.0  # a ceiling for a message that never comes, so a broken sender fails the test instead of hanging it
POLL_S = 0.02


@dataclass
class StreamReceiver:
    port: int
    messages: queue.Queue[bytes] = field(default_factory=queue.Queue)
    # Connections whose TLS handshake failed: what an untrusting client leaves behind.
    handshake_failures: queue.Queue[str] = field(default_factory=queue.Queue)

    def next_message(self) -> bytes:
        return self.messages.get(timeout=WAIT_S)


def read_frames(stream: socket.socket) -> list[bytes]:
    """Reads to end of stream, then splits `<length> <message>` frames, checking every length matches."""
    data = b""
    while chunk := stream.recv(65536):
        data += chunk
    frames: list[bytes] = []
    while data:
        length, space, rest = data.partition(b" ")
        if not (space and length.isdigit()) or len(rest) < int(length):
            # Raised in the receiver's thread, where pytest reports it as the test's failure.
            raise ValueError(f"not a whole octet-counted frame: {data[:40]!r}")
        size = int(length)
        frames.append(rest[:size])
        data = rest[size:]
    return frames


def serve_streams(
    listener: socket.socket, receiver: StreamReceiver, tls: ssl.SSLContext | None, stop: threading.Event
) -> None:
    # accept() with a short timeout, because closing a listener does not wake a thread blocked in accept().
    listener.settimeout(POLL_S)
    while not stop.is_set():
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        with connection:
            connection.settimeout(WAIT_S)
            try:
                stream = tls.wrap_socket(connection, server_side=True) if tls else connection
            except (ssl.SSLError, OSError) as error:
                receiver.handshake_failures.put(type(error).__name__)
                continue
            with stream:
                for frame in read_frames(stream):
                    receiver.messages.put(frame)


@contextmanager
def stream_receiver(tls: ssl.SSLContext | None = None) -> Iterator[StreamReceiver]:
    listener = socket.create_server(("127.0.0.1", 0))
    receiver = StreamReceiver(listener.getsockname()[1])
    stop = threading.Event()
    thread = threading.Thread(target=serve_streams, args=(listener, receiver, tls, stop), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        stop.set()
        thread.join()
        listener.close()


@contextmanager
def udp_receiver() -> Iterator[tuple[int, socket.socket]]:
    """A bound UDP socket: the kernel queues datagrams, so the test reads them after delivery returns."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(WAIT_S)
        yield sock.getsockname()[1], sock
