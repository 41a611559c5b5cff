"""Boot a kernel under QEMU with a time limit, keep its serial log, and say how the boot ended.

QEMU runs in its own process group (its own session) with stdin from
/dev/null and the serial console on stdout, which goes straight into the log
file (so ``tail -f`` works during a long boot). On timeout the whole group is
killed with SIGKILL. QEMU's stderr is appended to the log after a marker line.
"""

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .ktap import KtapRun, decode, parse
from .status import Status

STDERR_MARKER = b"\n--- QEMU stderr ---\n"
TAIL_LINES = 10

_live: set[subprocess.Popen] = set()
_live_lock = threading.Lock()


@dataclass(frozen=True)
class Failure:
    """How a boot went wrong: the status every test it did not report gets, and why."""

    status: Status
    detail: str


@dataclass
class Boot:
    """One QEMU run and what came out of it."""

    label: str
    command: list[str]
    log_path: Path
    timeout: float
    exit_code: int | None = None
    timed_out: bool = False
    start_error: str | None = None
    output: str = ""
    elapsed: float = 0.0
    ktap: KtapRun = field(default_factory=KtapRun)
    test_order: dict[str, list[str]] = field(default_factory=dict)  # suite -> tests, as they run
    disk: Path | None = None  # the disk image attached to this boot, if any (disk.py)

    def failure(self, expect_ktap: bool = True) -> Failure | None:
        """Why this boot did not run to the end, or None if it did.

        With @p expect_ktap (a test run, not a benchmark) a boot that powered
        off before the top-level plan was complete also failed.
        """
        where = self.ktap.position(self.test_order)
        if self.start_error is not None:
            return Failure(Status.QEMU_FAILED, self.start_error)
        if self.timed_out:
            return Failure(Status.TIMEOUT, f"no power-off within {self.timeout:g} s, {where}")
        if self.ktap.panic is not None:
            return Failure(Status.PANIC, self.ktap.panic)
        if self.exit_code == 2:
            return Failure(Status.PANIC, f"exit code 2 (panic) with no panic line, {where}")
        if self.exit_code not in (0, 1):
            return Failure(Status.DID_NOT_RUN, f"QEMU died ({_describe_exit(self.exit_code)}), {where}")
        if expect_ktap and not self.ktap.complete:
            return Failure(Status.DID_NOT_RUN, f"kernel powered off early (exit code {self.exit_code}), {where}")
        return None

    def tail(self, count: int = TAIL_LINES) -> list[str]:
        """The last @p count non-empty lines of serial output."""
        lines = [line.rstrip() for line in self.output.splitlines() if line.strip()]
        return lines[-count:]


def command(qemu: str, kernel: Path, memory: str, smp: int, bootargs: str, extra: tuple[str, ...] = ()) -> list[str]:
    """The QEMU command line for one boot of @p kernel on the virt machine.

    -no-reboot: a kernel that resets the machine ends the boot (as an early
    power-off) instead of running its tests again until the timeout.
    """
    return [
        qemu, "-machine", "virt", "-bios", "default", "-no-reboot",
        "-nographic", "-monitor", "none", "-serial", "stdio",
        "-kernel", str(kernel), "-m", memory, "-smp", str(smp), "-seed", "1",
        *extra, "-append", bootargs,
    ]  # fmt: skip


def run(
    label: str, argv: list[str], log_path: Path, timeout: float, test_order: dict[str, list[str]] | None = None
) -> Boot:
    """Run QEMU as @p argv for at most @p timeout seconds; log to @p log_path.

    @p test_order (suite -> its tests in the order they run) lets a boot that
    stopped inside a suite name the test it was running (see KtapRun.position).
    """
    boot = Boot(label, argv, log_path, timeout, test_order=dict(test_order or {}))
    start = time.monotonic()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        try:
            process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.PIPE, start_new_session=True
            )
        except OSError as err:
            boot.start_error = f"cannot run {argv[0]}: {err.strerror}"
            return boot
        stderr = _wait(process, timeout, boot)
    boot.elapsed = time.monotonic() - start
    _read_output(boot, stderr)
    return boot


def kill_all() -> None:
    """Kill every QEMU still running (on Ctrl-C: in sessions of their own, they did not get it)."""
    with _live_lock:
        for process in _live:
            _kill_group(process)


def _wait(process: subprocess.Popen, timeout: float, boot: Boot) -> bytes:
    """Wait for @p process; on timeout kill its process group. Return its stderr."""
    with _live_lock:
        _live.add(process)
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        boot.timed_out = True
        _kill_group(process)
        _, stderr = process.communicate()
    except BaseException:  # Ctrl-C while waiting: QEMU, in its own session, did not get it
        _kill_group(process)
        raise
    finally:
        with _live_lock:
            _live.discard(process)
    boot.exit_code = process.returncode
    return stderr or b""


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the process group that @p process leads, if it still exists."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _read_output(boot: Boot, stderr: bytes) -> None:
    """Parse the serial log; keep QEMU's stderr in the log; spot a QEMU that never started."""
    raw = boot.log_path.read_bytes()
    boot.output = decode(raw)
    boot.ktap = parse(boot.output)
    if stderr:
        with open(boot.log_path, "ab") as log:
            log.write(STDERR_MARKER + stderr)
    if not raw and boot.exit_code != 0 and not boot.timed_out:
        message = decode(stderr).strip() or f"no output, {_describe_exit(boot.exit_code)}"
        boot.start_error = message


def _describe_exit(code: int | None) -> str:
    """'exit code N' or 'killed by SIGxxx'."""
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
