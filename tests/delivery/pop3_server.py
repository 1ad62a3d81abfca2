"""A small POP3 server (RFC 1939) on loopback for the bounce mailbox tests: USER/PASS,
STAT, LIST, RETR (dot-stuffed), DELE (applied at QUIT), RSET, NOOP, QUIT."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Mailbox:
    user: str
    password: str
    messages: list[bytes] = field(default_factory=list)
    logins: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Session(socketserver.StreamRequestHandler):
    mailbox: Mailbox

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        box = self.server.mailbox  # type: ignore[attr-defined]
        self.reply("+OK test POP3 ready")
        user, authed, deleted = None, False, set()
        with box.lock:
            messages = list(box.messages)
        while raw := self.rfile.readline():
            command, _, argument = raw.decode().strip().partition(" ")
            command = command.upper()
            if command == "QUIT":
                if authed:
                    with box.lock:
                        box.messages = [m for i, m in enumerate(messages) if i not in deleted]
                self.reply("+OK bye")
                return
            if command == "USER":
                user = argument
                self.reply("+OK")
            elif command == "PASS":
                authed = user == box.user and argument == box.password
                if authed:
                    box.logins += 1
                self.reply("+OK logged in" if authed else "-ERR [AUTH] invalid login")
            elif not authed:
                self.reply("-ERR log in first")
            elif command == "STAT":
                live = [m for i, m in enumerate(messages) if i not in deleted]
                self.reply(f"+OK {len(live)} {sum(map(len, live))}")
            elif command == "LIST":
                self.reply("+OK")
                for i, m in enumerate(messages):
                    if i not in deleted:
                        self.reply(f"{i + 1} {len(m)}")
                self.reply(".")
            elif command == "RETR":
                index = int(argument) - 1
                if not 0 <= index < len(messages) or index in deleted:
                    self.reply("-ERR no such message")
                    continue
                self.reply(f"+OK {len(messages[index])} octets")
                for line in messages[index].split(b"\r\n"):
                    self.wfile.write((b"." + line if line.startswith(b".") else line) + b"\r\n")
                self.reply(".")
            elif command == "DELE":
                deleted.add(int(argument) - 1)
                self.reply("+OK deleted")
            elif command == "RSET":
                deleted.clear()
                self.reply("+OK")
            elif command == "NOOP":
                self.reply("+OK")
            else:
                self.reply("-ERR unknown command")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def pop3_server(mailbox: Mailbox) -> Iterator[int]:
    """Serve ``mailbox`` on a loopback port; yields the port."""
    server = _Server(("127.0.0.1", 0), _Session)
    server.mailbox = mailbox  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
