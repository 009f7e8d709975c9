"""The processes of a side-by-side run, and what ``/proc`` says about them.

Every process the run starts (the two providers, wrk, the command-line calls
that seed the data) runs in a process group of its own; ``Running.stop`` ends
the whole group, SIGKILL after a grace period. ``Cleanup`` holds everything
to undo and undoes it in reverse order on exit, on an exception, on Ctrl-C and
on SIGTERM.

CPU time is the user + system time of a process and all its descendants (the
gunicorn master and its workers; node and its threads), read from
``/proc/<pid>/stat``, children that have ended included.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces; the fields follow it.
    return raw.rsplit(")", 1)[1].split()


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, children of children included."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its descendants so far.

    Children that ended and were waited for count through their parent's
    cutime and cstime, so the sum never goes down when a worker is replaced.
    """
    total = 0
    for each in descendants(pid):
        fields = _stat_fields(each)
        if fields is not None:
            # utime, stime, cutime, cstime: fields 14 to 17 of proc(5), 12 to 15 after the name.
            total += sum(int(value) for value in fields[11:15])
    return total / CLOCK_TICKS


def rss_mib(pid: int) -> float:
    """Resident memory of one process in MiB (``VmRSS``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Running:
    """One started command in a process group of its own, its output in a log file."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str], cwd: Path):
        self.name = name
        self.log = log
        self._handle = log.open("ab")
        # The harness's own commands (mam-idp, node, wrk), never input from outside.
        self.process = subprocess.Popen(  # noqa: S603
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self, tail: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-tail:] if self.log.exists() else ""

    def stop(self, grace: float = 10) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(grace)
            except ProcessLookupError:
                pass
        self._handle.close()


def run_command(argv: list[str], env: dict[str, str], cwd: Path, timeout: float) -> tuple[int, str, str]:
    """Run ``argv`` to its end in a process group of its own; (status, stdout, stderr).

    The group is killed when the timeout passes or the run is interrupted.
    """
    process = subprocess.Popen(  # noqa: S603 (as in Running)
        argv,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except BaseException:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.communicate()
        raise
    return process.returncode, out, err


def wait_until(ready: Callable[[], bool], running: Running, timeout: float) -> None:
    """Poll ``ready`` until it says yes; fail with the log when the process ends or time is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise RuntimeError(f"{running.name} exited:\n{running.output()}")
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{running.name} did not answer within {timeout} s:\n{running.output()}")


class Cleanup:
    """What to undo at the end, last first; SIGTERM and SIGHUP end the run like Ctrl-C."""

    def __init__(self):
        self._undo: list[Callable[[], None]] = []

    def __enter__(self) -> Cleanup:
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._interrupt)
        return self

    @staticmethod
    def _interrupt(signum, _frame) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    def add(self, undo: Callable[[], None]) -> None:
        self._undo.append(undo)

    def start(self, *args, **kwargs) -> Running:
        running = Running(*args, **kwargs)
        self.add(running.stop)
        return running

    def __exit__(self, *exc) -> None:
        # A second Ctrl-C must not leave the rest behind.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            while self._undo:
                try:
                    self._undo.pop()()
                except Exception as error:  # keep undoing the rest
                    print(f"cleanup: {error}", file=sys.stderr)
        finally:
            signal.signal(signal.SIGINT, previous)
