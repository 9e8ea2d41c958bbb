"""Running untrusted-input tools (FFmpeg, the prober) in a cage.

Every child gets a wall-clock timeout, an address-space limit, a CPU-time
limit, no core dumps and a bare environment (no credentials: on AWS the
process environment holds the role's keys). The limits are applied by a tiny
launcher that ``execv``s the tool, so no ``preexec_fn`` runs in a forked copy
of a threaded worker. Inputs are reached through a link with a neutral name,
so a user's file name never becomes a tool argument.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..domain.errors import ConfigError

_LAUNCHER = (
    "import os,resource,sys\n"
    "m,c=int(sys.argv[1]),int(sys.argv[2])\n"
    "if m>0:resource.setrlimit(resource.RLIMIT_AS,(m,m))\n"
    "if c>0:resource.setrlimit(resource.RLIMIT_CPU,(c,c))\n"
    "resource.setrlimit(resource.RLIMIT_CORE,(0,0))\n"
    "os.execv(sys.argv[3],sys.argv[3:])\n"
)
STDERR_TAIL = 4000
# What a child may see of our environment: enough to find programs and libraries.
PASSED_ENVIRONMENT = ("PATH", "LD_LIBRARY_PATH", "LANG", "LC_ALL", "TZ", "TMPDIR")


@dataclass(frozen=True)
class Limits:
    timeout: float  # wall clock, seconds
    memory_bytes: int = 0  # address space; 0 = unlimited
    cpu_seconds: int = 0  # 0 = unlimited


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str  # only when no line callback consumed it
    stderr: str  # the tail
    timed_out: bool

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def executable(name_or_path: str) -> str:
    found = shutil.which(name_or_path)
    if found is None:
        raise ConfigError(f"cannot find the executable {name_or_path!r}")
    return str(Path(found).absolute())  # not resolve(): a venv python must stay a venv python


def run(
    args: Sequence[str],
    limits: Limits,
    *,
    on_line: Callable[[str], None] | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Finished:
    """Run ``args`` under ``limits``; stream stdout lines to ``on_line`` if given.

    The child's environment is the few ``PASSED_ENVIRONMENT`` variables, plus ``env``.
    """
    environment = {k: os.environ[k] for k in PASSED_ENVIRONMENT if k in os.environ}
    environment.update(env or {})
    program = executable(args[0])
    command = [
        sys.executable,
        "-I",
        "-S",
        "-c",
        _LAUNCHER,
        str(limits.memory_bytes),
        str(limits.cpu_seconds),
        program,
        *args[1:],
    ]
    with tempfile.TemporaryFile() as stderr:
        with subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=cwd,
            env=environment,
            close_fds=True,
        ) as proc:
            returncode, chunks, timed_out = _supervise(proc, limits.timeout, on_line)
        stderr.seek(max(0, os.fstat(stderr.fileno()).st_size - STDERR_TAIL))
        tail = stderr.read().decode("utf-8", "replace")
    return Finished(
        returncode=returncode,
        stdout="".join(chunks),
        stderr=tail,
        timed_out=timed_out,
    )


def _supervise(
    proc: subprocess.Popen[bytes], timeout: float, on_line: Callable[[str], None] | None
) -> tuple[int, list[str], bool]:
    """Read the child's stdout until it exits, killing it at the deadline."""
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        proc.kill()

    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()
    chunks: list[str] = []
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace")
            if on_line is not None:
                on_line(line.rstrip("\n"))
            else:
                chunks.append(line)
        return proc.wait(), chunks, expired.is_set()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        timer.cancel()


def neutral_link(source: Path, directory: Path, name: str = "source") -> Path:
    """Expose ``source`` as ``directory/name``: a hard link, else a copy."""
    target = directory / name
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
    return target
