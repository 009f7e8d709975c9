"""The provider as operators run it: ``mam-idp`` started in a subprocess on a free port.

``LiveProvider`` owns a database of its own (a SQLite file, or a PostgreSQL
schema), migrates it with ``mam-idp db upgrade``, and starts ``mam-idp serve``
(or any other serving command) with the same settings every process shares.
``provider.app()`` is an in-process app on the same database, for seeding rows
and reading what the server wrote. Whatever the server printed is kept in
``provider.log`` and shown when a test fails.

``LiveDemo`` runs ``mam-idp demo`` the way ``make demo`` does, on free ports.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from tests.conftest import (
    TEST_DATA_KEYS,
    TEST_SECRET_KEY,
    make_test_app,
    migrated_sqlite,
    postgres_schema_url,
)

SCRIPT = Path(sys.executable).with_name("mam-idp")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_answering(
    process: subprocess.Popen, urls: list[str], timeout: float, output, name: str
) -> None:
    """Poll ``urls`` until each answers below 500; fail with ``output()`` if ``process`` ends."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"mam-idp {name} exited:\n{output()}")
        try:
            if all(requests.get(url, timeout=2).status_code < 500 for url in urls):
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise AssertionError(f"mam-idp {name} did not answer within {timeout} s:\n{output()}")


def end_process_group(process: subprocess.Popen, signum: int, timeout: float) -> int:
    """Send ``signum`` to the process group; SIGKILL after ``timeout`` s. The exit status."""
    if process.poll() is None:
        os.killpg(process.pid, signum)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout)
    return process.returncode


class LiveProvider:
    def __init__(
        self, tmp: Path, backend: str, redis_url: str = "", script: Path = SCRIPT, **env: str
    ):
        #: The ``mam-idp`` to run: this environment's, or one installed elsewhere.
        self.script = script
        self.tmp = tmp
        self.backend = backend
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "server.log"
        self._schema = None
        self._app = None
        if backend == "sqlite":
            self._sqlite_path = tmp / "live.sqlite3"
            self.database_url = f"sqlite:///{self._sqlite_path}"
        else:
            self._schema = f"live_{uuid.uuid4().hex[:12]}"
            base = os.environ["IDP_TEST_DATABASE_URL"]
            with create_engine(base, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f"CREATE SCHEMA {self._schema}"))
            self.database_url = postgres_schema_url(base, self._schema)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "FLASK_"))}
        self.env.update(
            IDP_INSTANCE_PATH=str(tmp / "instance"),
            IDP_DATABASE_URL=self.database_url,
            IDP_ISSUER=self.url,
            IDP_SECRET_KEY=TEST_SECRET_KEY,
            IDP_DATA_KEY=",".join(TEST_DATA_KEYS),
        )
        if redis_url:
            self.env["IDP_REDIS_URL"] = redis_url
        self.env.update(env)
        self.process: subprocess.Popen | None = None
        self.spawned: list[Spawned] = []

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run one ``mam-idp`` command with the server's settings."""
        return subprocess.run(
            [str(self.script), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.tmp,
        )

    def migrate(self) -> None:
        """``mam-idp db upgrade`` for another installation's ``mam-idp``; for this
        environment's, the same migrations without a process of their own: on SQLite a
        copy of the database the suite migrated once (``tests.conftest.migrated_sqlite``),
        on PostgreSQL an upgrade in this process. ``tests/test_cli_script.py`` runs the
        command itself."""
        if self.script != SCRIPT:
            done = self.run("db", "upgrade")
            assert done.returncode == 0, done.stderr
        elif self.backend == "sqlite":
            migrated_sqlite(self._sqlite_path)
        else:
            from flask_migrate import upgrade

            with self.app().app_context():
                upgrade()

    def start(self, *command: str, ready_path: str = "/healthz", timeout: float = 60) -> None:
        """Start ``mam-idp COMMAND`` (default: ``serve`` on this port) and wait until it answers."""
        command = command or ("serve", "--port", str(self.port), "--workers", "2")
        self._log_handle = self.log.open("ab")
        self.process = subprocess.Popen(
            [str(self.script), *command],
            env=self.env,
            cwd=self.tmp,
            stdin=subprocess.DEVNULL,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until_answering(
            self.process, [self.url + ready_path], timeout, self.output, " ".join(command)
        )

    def output(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        for other in self.spawned:
            text += f"\n--- mam-idp {' '.join(other.command)} ---\n{other.output()}"
        return text

    def spawn(self, *command: str, **env: str) -> Spawned:
        """Start another ``mam-idp COMMAND`` with the same settings (e.g. ``worker``).

        It is not waited for; ``close()`` stops it with the server.
        """
        process = Spawned(
            self.script,
            command,
            self.tmp / f"{command[0]}-{len(self.spawned)}.log",
            {**self.env, **env},
        )
        self.spawned.append(process)
        return process

    def stop(self, timeout: float = 20) -> int | None:
        """SIGTERM the server's process group; returns its exit status."""
        if self.process is None:
            return None
        status = end_process_group(self.process, signal.SIGTERM, timeout)
        self._log_handle.close()
        return status

    def app(self):
        """An in-process app on the server's database (commits are real)."""
        if self._app is None:
            self._app = make_test_app(
                self.database_url,
                self.tmp / "instance",
                self.env.get("IDP_REDIS_URL", ""),
                issuer=self.url,
            )
        return self._app

    def close(self) -> None:
        self.stop()
        for other in self.spawned:
            other.stop()
        if self._app is not None:
            from idp.extensions import db
            from idp.services.notifications import dispatcher

            # No retry timer of this app may fire later, inside another test.
            dispatcher(self._app).close()
            with self._app.app_context():
                db.session.remove()
                db.engine.dispose()
        if self._schema is not None:
            base = os.environ["IDP_TEST_DATABASE_URL"]
            engine = create_engine(base, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text(f"DROP SCHEMA {self._schema} CASCADE"))
            engine.dispose()


class Spawned:
    """One more ``mam-idp`` process beside the server, in a process group of its own."""

    def __init__(self, script: Path, command: tuple[str, ...], log: Path, env: dict[str, str]):
        self.command = command
        self.log = log
        self._log_handle = log.open("ab")
        self.process = subprocess.Popen(
            [str(script), *command],
            env=env,
            cwd=log.parent,
            stdin=subprocess.DEVNULL,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_for_output(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.process.poll() is not None:
                raise AssertionError(f"mam-idp {' '.join(self.command)} exited:\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} within {timeout} s:\n{self.output()}")
            time.sleep(0.05)

    def signal(self, signum: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signum)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM; SIGKILL after ``timeout`` seconds. Returns the exit status."""
        status = end_process_group(self.process, signal.SIGTERM, timeout)
        self._log_handle.close()
        return status


@contextmanager
def live_provider(tmp: Path, backend: str, redis_url: str = "", *command: str, **env: str):
    """A migrated database and ``mam-idp serve --workers 2`` (or ``command``) on it."""
    provider = LiveProvider(tmp, backend, redis_url, **env)
    try:
        provider.migrate()
        provider.start(*command)
        yield provider
    except BaseException:
        sys.stderr.write(provider.output()[-20000:])
        raise
    finally:
        provider.close()


class LiveDemo:
    """``mam-idp demo`` as ``make demo`` runs it: no settings, the instance folder in ``cwd``.

    Only the ports differ (``--port``, ``--partner-port``), so that tests use free
    ones; the issuer follows the port. ``credentials()`` reads what the demo printed.
    """

    def __init__(self, cwd: Path):
        self.cwd = cwd
        self.port = free_port()
        self.partner_port = free_port()
        self.airline_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.partner_url = f"http://127.0.0.1:{self.partner_port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "FLASK_"))}
        self.process: subprocess.Popen | None = None
        self._runs = 0

    @property
    def log(self) -> Path:
        return self.cwd / f"demo-{self._runs}.log"

    def start(self, timeout: float = 90) -> None:
        self._runs += 1
        self._log_handle = self.log.open("wb")
        self.process = subprocess.Popen(
            [str(SCRIPT), "demo", "--port", str(self.port), "--partner-port", str(self.partner_port),
             "--airline-port", str(self.airline_port)],
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until_answering(
            self.process,
            [self.partner_url + "/", self.url + "/healthz"],
            timeout,
            self.output,
            "demo",
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def credentials(self) -> dict[str, str]:
        """The demo member's ``Email``, ``Password``, ``TOTP key`` and the rest, as printed."""
        printed = {}
        for line in self.output().splitlines():
            label, _, value = line.strip().partition("  ")
            if value.strip():
                printed[label] = value.strip()
        return printed

    def stop(self, timeout: float = 20) -> int | None:
        """Ctrl+C, as a person stops the demo; returns the exit status."""
        if self.process is None:
            return None
        status = end_process_group(self.process, signal.SIGINT, timeout)
        self._log_handle.close()
        return status


@contextmanager
def live_demo(cwd: Path):
    demo = LiveDemo(cwd)
    try:
        demo.start()
        yield demo
    except BaseException:
        sys.stderr.write(demo.output()[-20000:])
        raise
    finally:
        demo.stop()
