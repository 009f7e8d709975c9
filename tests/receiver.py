"""A partner's back-channel endpoint for tests: a tiny werkzeug server on a free port.

It records every POST and answers as scripted (status codes, delays, or holding
the answer until the test releases it).
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Delivery:
    at: float
    path: str
    content_type: str
    form: dict
    body: bytes
    headers: dict = field(default_factory=dict)


@dataclass
class Receiver:
    """A partner's back-channel endpoint: records every POST and answers as scripted."""

    url: str
    deliveries: list[Delivery] = field(default_factory=list)
    #: Status codes to answer in turn; 200 once they run out.
    script: list[int] = field(default_factory=list)
    #: Seconds to wait before answering, per attempt (missing: answer at once).
    delays: list[float] = field(default_factory=list)
    #: When set, every answer waits for this event.
    hold: threading.Event | None = None
    changed: threading.Condition = field(default_factory=threading.Condition)

    def handle(self, request: Request) -> Response:
        with self.changed:
            attempt = len(self.deliveries)
            self.deliveries.append(
                Delivery(
                    at=time.monotonic(),
                    path=request.path,
                    content_type=request.mimetype,
                    form=request.form.to_dict(),
                    body=request.get_data(),
                    headers=dict(request.headers),
                )
            )
            self.changed.notify_all()
        if self.hold is not None:
            self.hold.wait(timeout=30)
        if attempt < len(self.delays):
            threading.Event().wait(self.delays[attempt])  # a slow partner
        status = self.script[attempt] if attempt < len(self.script) else 200
        return Response("", status=status)

    def wait_for(self, count: int, timeout: float = 10) -> list[Delivery]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.deliveries) >= count, timeout), (
                f"expected {count} deliveries, got {len(self.deliveries)}"
            )
            return list(self.deliveries)


@contextmanager
def running_receiver():
    """A receiver served on ``http://127.0.0.1:<free port>`` until the block ends."""
    port = free_port()
    box: dict = {}

    @Request.application
    def wsgi(request):
        return box["receiver"].handle(request)

    server = make_server("127.0.0.1", port, wsgi, threaded=True)
    box["receiver"] = Receiver(url=f"http://127.0.0.1:{port}/backchannel-logout")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box["receiver"]
    finally:
        if box["receiver"].hold is not None:
            box["receiver"].hold.set()
        server.shutdown()
        thread.join(timeout=5)


class SlowReceiver:
    """An HTTP endpoint that reads a request and answers a byte every half second, never done."""

    def __init__(self):
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/events"
        self.reached = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> SlowReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(5)

    def _serve(self) -> None:
        try:
            connection, _ = self._listener.accept()
        except OSError:
            return
        with connection:
            connection.recv(65536)
            self.reached.set()
            answer = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: yes\r\n" * 90
            for byte in answer:
                if self._stop.wait(0.5):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return
