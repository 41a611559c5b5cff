"""Shared fixtures of the grader's tests: a scratch mmlab tree, fake qemu and make, KTAP logs.

No QEMU runs here: ``fakes/fake_qemu.py`` replays serial logs that the tests
generate with ktap_log() (after OpenSBI's recorded banner), hangs, prints
garbage or fails to start, as each test asks.
"""

import json
import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
FAKES = TESTS / "fakes"
GRADER = TESTS.parent
sys.path.insert(0, str(GRADER))

from mmgrade import cli  # noqa: E402

BANNER = (DATA / "opensbi-banner.log").read_bytes()


@dataclass
class T:
    """A test result to put in a generated log."""

    name: str
    ok: bool = True
    diag: tuple[str, ...] = ()
    skip: str | None = None


def ktap_log(suites: dict[str, list[T]], banner: bool = True) -> bytes:
    """A serial log as the kernel prints it (KTAP version 1, CRLF like the UART)."""
    lines = ["KTAP version 1", f"1..{len(suites)}"]
    for number, (suite, tests) in enumerate(suites.items(), start=1):
        lines += ["    KTAP version 1", f"    # Subtest: {suite}", f"    1..{len(tests)}"]
        for index, test in enumerate(tests, start=1):
            lines += [f"    # {line}" for line in test.diag]
            directive = f" # SKIP {test.skip}" if test.skip else ""
            lines.append(f"    {'ok' if test.ok else 'not ok'} {index} {test.name}{directive}")
        failed = any(not test.ok for test in tests)
        lines.append(f"{'not ok' if failed else 'ok'} {number} {suite}")
    lines.append("# Totals: ...")
    text = "".join(line + "\r\n" for line in lines).encode()
    return (BANNER if banner else b"") + text


def passing_suites(smp: int) -> dict[str, list[T]]:
    """Every test of data/rubric.toml passing (ch1.smp skipped on one hart)."""
    skip = "needs 2 harts" if smp < 2 else None
    return {
        "ch1.alpha": [T("one"), T("two")],
        "ch1.beta": [T("b1"), T("b2")],
        "ch1.smp": [T("concurrent", skip=skip)],
    }


def cut(log: bytes, before: str) -> bytes:
    """@p log up to (not including) the first line containing @p before."""
    return log[: log.index(before.encode())]


@dataclass
class Graded:
    """What one grade.py run printed and returned."""

    code: int
    out: str
    err: str

    @property
    def closing(self) -> str:
        """The last line of stdout."""
        return self.out.rstrip("\n").splitlines()[-1]


@dataclass
class Lab:
    """A scratch mmlab tree with fake tools, and a way to run the grader on it."""

    root: Path
    capsys: pytest.CaptureFixture
    make_mode: str = "ok"
    qemu_path: Path | None = None
    scenario: dict = field(default_factory=dict)

    def qemu(self, default: dict, **by_config: dict) -> Path:
        """Make the fake qemu; behaviours by '<-m>/<-smp>' (e.g. '64M/1'), serial as bytes."""
        pids = self.root / "pids"
        pids.mkdir(exist_ok=True)
        self.scenario = {
            "calls": str(self.root / "calls.jsonl"),
            "pids": str(pids),
            "default": self._behaviour("default", default),
            "by_config": {key: self._behaviour(key, value) for key, value in by_config.items()},
        }
        scenario = self.root / "scenario.json"
        scenario.write_text(json.dumps(self.scenario))
        self.qemu_path = self.root / "fake-qemu"
        self.qemu_path.write_text(
            f"#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(str(FAKES / 'fake_qemu.py'))} "
            f"{shlex.quote(str(scenario))} \"$@\"\n"
        )
        self.qemu_path.chmod(0o755)
        return self.qemu_path

    def _behaviour(self, key: str, behaviour: dict) -> dict:
        """A behaviour for the scenario file, its serial bytes saved to a file."""
        behaviour = dict(behaviour)
        if "serial" in behaviour:
            path = self.root / f"serial-{key.replace('/', '-')}.bin"
            path.write_bytes(behaviour.pop("serial"))
            behaviour["serial_file"] = str(path)
        return behaviour

    def passing(self) -> Path:
        """A fake qemu where every configuration passes."""
        return self.qemu(
            {"serial": ktap_log(passing_suites(1)), "exit": 0},
            **{"256M/2": {"serial": ktap_log(passing_suites(2)), "exit": 0}},
        )

    def grade(self, *args: str, rubric: Path = DATA / "rubric.toml") -> Graded:
        """Run grade.py's main() in-process on this tree; capture what it prints."""
        self.capsys.readouterr()
        make = f"{shlex.quote(sys.executable)} {shlex.quote(str(FAKES / 'fake_make.py'))} {self.make_mode}"
        argv = ["--root", str(self.root), "--rubric", str(rubric), "--make", make]
        if self.qemu_path is not None:
            argv += ["--qemu", str(self.qemu_path)]
        code = cli.main(argv + list(args))
        captured = self.capsys.readouterr()
        return Graded(code, captured.out, captured.err)

    def calls(self) -> list[list[str]]:
        """The argument lists the fake qemu was started with."""
        path = Path(self.scenario["calls"])
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def fake_pids(self) -> list[int]:
        """The pids of every fake qemu and child it started."""
        files = Path(self.scenario["pids"]).glob("*.pids")
        return [int(pid) for path in files for pid in path.read_text().split()]


def alive(pid: int) -> bool:
    """True if process @p pid exists and is not a zombie."""
    if not Path("/proc/self").exists():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


@pytest.fixture
def lab(tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> Lab:
    """A scratch tree with ch1/ in it; no MMLAB_* variables leak in from outside."""
    for name in ("MMLAB_QEMU", "MMLAB_TIMEOUT_SCALE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "ch1" / "tests").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    return Lab(tmp_path, capsys)

