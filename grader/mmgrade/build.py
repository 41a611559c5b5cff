"""Build a chapter's kernel with make, or check that a prebuilt one is there."""

import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import ktap

TAIL_LINES = 10


@dataclass(frozen=True)
class BuildFailure:
    """Why there is no kernel to boot: a one-line summary and make's last lines."""

    summary: str
    log_path: Path | None = None
    tail: tuple[str, ...] = ()


def kernel_path(root: Path, number: int) -> Path:
    """Where ``make kernel CH=<number>`` leaves the kernel."""
    return root / "build" / f"ch{number}" / "kernel.elf"


def make_command(make: str, root: Path, number: int) -> list[str]:
    """The build command: @p make (split like a shell would) plus ``-C root kernel CH=N``."""
    return [*shlex.split(make), "-C", str(root), "kernel", f"CH={number}"]


def build(make: str, root: Path, number: int, log_path: Path, env: dict[str, str] | None = None) -> BuildFailure | None:
    """Build chapter @p number's kernel; log make's output; None if a kernel came out.

    @p env: make's environment (default: this process's).
    """
    argv = make_command(make, root, number)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
        )
    except OSError as err:
        return BuildFailure(f"cannot run {argv[0]}: {err.strerror}")
    log_path.write_bytes(done.stdout)
    tail = tuple(line for line in ktap.decode(done.stdout).splitlines() if line.strip())[-TAIL_LINES:]
    if done.returncode != 0:
        return BuildFailure(f"{shlex.join(argv)} exited with code {done.returncode}", log_path, tail)
    return check_kernel(root, number)


def check_kernel(root: Path, number: int) -> BuildFailure | None:
    """None if chapter @p number's kernel exists, else why not."""
    kernel = kernel_path(root, number)
    if not kernel.is_file():
        return BuildFailure(f"no kernel at {kernel}")
    return None
