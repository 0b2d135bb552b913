"""An SSH server that puts a simulated device's ``Shell`` behind a real login, for netmiko to talk to.

It runs asyncssh on its own event loop in a background thread, so that synchronous code (the drivers,
the demo, pytest without asyncio) can start one, log in over loopback, and stop it. Each interactive
session gets a fresh shell from the factory; the device's state is whatever the factory closes over.
Faults armed on the server fire per command, as ``simulator.cli.shell`` describes.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from types import TracebackType
from typing import Any

import asyncssh

from simulator.cli.shell import Faults, Shell, ShellFactory

log = logging.getLogger(__name__)

_HOST_KEY: asyncssh.SSHKey | None = None
_HOST_KEY_LOCK = threading.Lock()


def host_key() -> asyncssh.SSHKey:
    """One host key per process: generating one per server would cost time and show nothing."""
    global _HOST_KEY
    with _HOST_KEY_LOCK:
        if _HOST_KEY is None:
            _HOST_KEY = asyncssh.generate_private_key("ssh-ed25519")
        return _HOST_KEY


class _Auth(asyncssh.SSHServer):
    """Password authentication against the server's user table; counts refusals."""

    def __init__(self, device: SshDeviceServer) -> None:
        self._device = device
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._device._connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._device._connections.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        ok = self._device.users.get(username) == password
        if not ok:
            with self._device._count_lock:
                self._device.failed_logins += 1
        return ok


class SshDeviceServer:
    """A device's SSH front: ``with SshDeviceServer(factory, users={...}) as srv: srv.port``."""

    def __init__(
        self,
        shell_factory: ShellFactory,
        *,
        users: dict[str, str],
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        name: str = "device",
    ) -> None:
        self.shell_factory = shell_factory
        self.users = dict(users)
        self.host = host
        self.port = port
        self.faults = faults if faults is not None else Faults()
        self.name = name
        #: interactive sessions opened (after a successful login)
        self.sessions_opened = 0
        #: password attempts refused
        self.failed_logins = 0
        #: exec requests refused (devices here only offer a shell)
        self.exec_refused = 0
        #: every command line received, in order, across sessions
        self.commands: list[str] = []
        self._count_lock = threading.Lock()
        self._connections: set[asyncssh.SSHServerConnection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._acceptor: Any = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SshDeviceServer:
        """Listen; returns once the port is open (``.port`` then holds it)."""
        if self._thread is not None:
            return self
        loop = asyncio.new_event_loop()
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._listen())
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                started.set()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=f"ssh-{self.name}", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    async def _listen(self) -> None:
        self._acceptor = await asyncssh.create_server(
            lambda: _Auth(self),
            self.host,
            self.port,
            server_host_keys=[host_key()],
            process_factory=self._session,
            line_editor=False,
            encoding="utf-8",
            keepalive_interval=0,
        )
        self.port = int(self._acceptor.sockets[0].getsockname()[1])

    def stop(self) -> None:
        """Close the listener and every open session; safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            if self._acceptor is not None:
                self._acceptor.close()
            for conn in list(self._connections):
                conn.abort()
            await asyncio.sleep(0)
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        self._loop = None
        self._thread = None

    def __enter__(self) -> SshDeviceServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ one session

    async def _session(self, process: asyncssh.SSHServerProcess[str]) -> None:
        conn: asyncssh.SSHServerConnection = process.get_extra_info("connection")
        if process.command is not None:
            with self._count_lock:
                self.exec_refused += 1
            process.stderr.write("% Command execution is not supported; open a shell.\r\n")
            process.exit(1)
            return
        with self._count_lock:
            self.sessions_opened += 1
        shell = self.shell_factory(str(process.get_extra_info("username")))
        process.stdout.write(_crlf(shell.banner()) + shell.prompt())
        line = ""
        after_cr = False
        try:
            while True:
                try:
                    data = await process.stdin.read(4096)
                except (asyncssh.TerminalSizeChanged, asyncssh.BreakReceived, asyncssh.SignalReceived):
                    continue
                if not data:
                    break
                for ch in data:
                    if ch == "\n" and after_cr:
                        after_cr = False
                        continue
                    after_cr = ch == "\r"
                    if ch in "\r\n":
                        if shell.echo():
                            process.stdout.write("\r\n")
                        if not await self._run(process, conn, shell, line):
                            return
                        line = ""
                    elif ch in "\x08\x7f":
                        if line:
                            line = line[:-1]
                            if shell.echo():
                                process.stdout.write("\b \b")
                    elif ch >= " " or ch == "\t":
                        line += ch
                        if shell.echo():
                            process.stdout.write(ch)
        except (asyncssh.Error, ConnectionError, BrokenPipeError):
            return
        process.exit(0)

    async def _run(
        self, process: asyncssh.SSHServerProcess[str], conn: asyncssh.SSHServerConnection, shell: Shell, line: str
    ) -> bool:
        """Apply one command line; False when the session is over."""
        command = line.strip()
        if command:
            with self._count_lock:  # a password typed at a prompt that does not echo is not kept
                self.commands.append(command if shell.echo() else "<not echoed>")
        drop = self.faults.take(command) if command else None
        # logged by its first word and number in ``commands``: the rest may hold a household code
        if drop == "before":
            log.info("%s: dropping the connection before command %d (%s ...)", self.name, len(self.commands),
                     command.split()[0])
            conn.abort()
            return False
        if self.faults.delay > 0:
            await asyncio.sleep(self.faults.delay)
        reply = shell.handle(line)
        if drop == "after":
            log.info("%s: dropping the connection after command %d (%s ...)", self.name, len(self.commands),
                     command.split()[0])
            conn.abort()
            return False
        out = _crlf(reply.output)
        if out and not out.endswith("\n"):
            out += "\r\n"
        if reply.close:
            process.stdout.write(out)
            process.exit(0)
            conn.close()
            return False
        process.stdout.write(out + shell.prompt())
        return True


def _crlf(text: str) -> str:
    """A terminal's line endings: every line feed as CR LF."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")
