"""Child processes of the stack: started in a session of their own, stopped with their group.

A session of their own means a Ctrl+C in the terminal reaches only the runner, which then stops
the children in order (services before the broker). ``PR_SET_PDEATHSIG`` makes Linux send them
SIGTERM if the runner itself dies without cleaning up (e.g. ``kill -9``)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child between fork and exec (Linux only; elsewhere nothing happens)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(argv: Sequence[str], env: Mapping[str, str], log_path: Path,
          append: bool = False) -> subprocess.Popen[bytes]:
    """Start ``argv`` with no stdin, stdout and stderr into ``log_path`` (truncated first,
    unless ``append``)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab" if append else "wb") as log:
        return subprocess.Popen(
            list(argv), env=dict(env), stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent,
        )


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    # Only while the leader has not been reaped, so the group id cannot belong to anyone else.
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)  # the child leads its own group: start_new_session=True


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> int | None:
    """SIGTERM the process group, SIGKILL it after ``timeout`` s; returns the exit code."""
    stop_many([proc], timeout)
    return proc.returncode


def stop_many(processes: Sequence[subprocess.Popen[bytes]], timeout: float = 15.0) -> None:
    """Stop several processes at once: SIGTERM every group, then wait for all of them together
    (a graceful stop takes seconds per service), SIGKILL whichever is still there."""
    for proc in processes:
        if proc.poll() is None:
            _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in processes:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait()


def tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file ('' when it does not exist)."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
