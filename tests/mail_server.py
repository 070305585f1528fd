"""A real SMTP server for the notice tests (aiosmtpd on a free loopback port), which keeps what it
received and can be down, slow, or refuse a recipient.

Test modules take the :func:`mail_server` fixture (imported from here); the benchmark uses
:class:`MailServer` directly.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from tests.support import free_port

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    """One message the server accepted: its envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return self.message["Message-ID"]

    @property
    def text(self) -> str:
        return self.message.get_content()


class _Handler:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_RCPT(self, _server, _session, envelope, address, _options):  # noqa: N802
        if address in self.server.refused:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server, _session, envelope):  # noqa: N802
        if self.server.delay:
            await asyncio.sleep(self.server.delay)
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        with self.server.lock:
            self.server.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), raw, parsed)
            )
        return "250 Message accepted for delivery"


class MailServer:
    """aiosmtpd on 127.0.0.1:*port*; nothing listens there while it is :meth:`stop`-ped."""

    def __init__(self, port: int | None = None, *, delay: float = 0) -> None:
        self.port = port or free_port()
        self.delay = delay  # seconds each message takes before it is accepted
        self.refused: set[str] = set()  # recipients answered with 550
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def up(self) -> bool:
        return self._controller is not None

    def start(self) -> MailServer:
        if self._controller is None:
            controller = Controller(_Handler(self), hostname=HOST, port=self.port)
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def wait_for(self, count: int, seconds: float = 30) -> list[Received]:
        """Wait until at least *count* messages arrived; all that did."""
        deadline = time.monotonic() + seconds
        while len(self.messages()) < count:
            assert time.monotonic() < deadline, (
                f"{len(self.messages())} of {count} mails arrived in {seconds} s"
            )
            time.sleep(0.05)
        return self.messages()

    def settings(self) -> dict[str, object]:
        """The app's config that sends mail here."""
        return {"MAIL_SERVER": HOST, "MAIL_PORT": self.port}


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    """A running SMTP server on a free loopback port (stopped after the test)."""
    server = MailServer().start()
    try:
        yield server
    finally:
        server.stop()


def main() -> None:
    """Serve in a process of its own until SIGTERM (the benchmark's server: its work must not
    share the measured process's interpreter); a line on stdout per message accepted."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0)
    args = parser.parse_args()
    server = MailServer(args.port, delay=args.delay)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    print("ready", flush=True)
    seen = 0
    while not stop.wait(0.1):
        for mail in server.messages()[seen:]:
            print("accepted", mail.message_id, flush=True)
            seen += 1
    server.stop()
    print("received", len(server.messages()), flush=True)


if __name__ == "__main__":
    main()
