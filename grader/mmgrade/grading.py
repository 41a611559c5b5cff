"""Build a chapter's kernel and boot it once in one configuration (schedule.py runs a whole grade)."""

import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import build, disk, dtb, qemu
from .rubric import Chapter, Config

BENCH_MEMORY = "256M"
# The kernel's per-test watchdog (common/lib/ktest.c), scaled with the boot timeout.
WATCHDOG_MS = 8000
BENCH_EXTRA = ("-icount", "shift=0")


@dataclass(frozen=True)
class Settings:
    """How to grade: where the tree is, which tools to run, and how hard to wait.

    env is make's environment (None: this process's); a caller that grades
    in-process from under a make (scripts/handout.py) passes one without
    the parent make's variables. show_progress: keep a status line on the
    terminal while boots run (progress.py).
    """

    root: Path
    qemu: str
    make: str
    jobs: int
    timeout_scale: float
    build: bool
    only: tuple[str, ...]
    verbose: bool
    env: dict[str, str] | None = field(default=None, hash=False)
    show_progress: bool = False

    @property
    def log_dir(self) -> Path:
        """Where boot and build logs go: build/grade/."""
        return self.root / "build" / "grade"

    def progress(self, message: str) -> None:
        """Tell what is going on (on stderr, with -v only)."""
        if self.verbose:
            print(message, file=sys.stderr, flush=True)


def selected_configs(chapter: Chapter, settings: Settings) -> list[Config]:
    """The chapter's configurations, limited to --only's if given."""
    if not settings.only:
        return list(chapter.configs)
    return [config for config in chapter.configs if config.name in settings.only]


def prepare_kernel(chapter: Chapter, settings: Settings) -> build.BuildFailure | None:
    """Build the chapter's kernel (or, with --no-build, check it exists)."""
    if not settings.build:
        return build.check_kernel(settings.root, chapter.number)
    settings.progress(f"{chapter.name}: {shlex.join(build.make_command(settings.make, settings.root, chapter.number))}")
    log_path = settings.log_dir / f"{chapter.name}-build.log"
    return build.build(settings.make, settings.root, chapter.number, log_path, settings.env)


def boot_log_path(chapter: Chapter, config: Config, settings: Settings) -> Path:
    """Where a boot of @p chapter's kernel in @p config logs its serial output: build/grade/chN-CONFIG.log."""
    return settings.log_dir / f"{chapter.name}-{config.name}.log"


def watchdog_bootarg(settings: Settings) -> str:
    """``ktest_timeout=<ms>`` when --timeout-scale changes the kernel's default, else nothing."""
    if settings.timeout_scale == 1:
        return ""
    return f"ktest_timeout={round(WATCHDOG_MS * settings.timeout_scale)}"


def boot_config(
    chapter: Chapter, config: Config, settings: Settings, test_order: dict[str, list[str]] | None = None
) -> qemu.Boot:
    """Boot the chapter's kernel once in @p config with its tests selected.

    @p test_order (suite -> its tests in run order, from the sources) lets a
    boot that stopped inside a suite name the test that was running.
    """
    bootargs = " ".join(part for part in (f"ktest={chapter.ktest}", watchdog_bootarg(settings), config.bootargs) if part)
    kernel = build.kernel_path(settings.root, chapter.number)
    log_path = boot_log_path(chapter, config, settings)
    timeout = chapter.timeout * settings.timeout_scale
    extra: tuple[str, ...] = ()
    if config.dtb:
        path = settings.log_dir / "dtb" / f"{chapter.name}-{config.name}.dtb"
        try:
            extra = ("-dtb", str(dtb.make(settings.qemu, config.memory, config.smp, config.dtb, path)))
        except dtb.DtbError as err:
            return qemu.Boot(config.name, [settings.qemu], log_path, timeout, start_error=str(err))
    image = None
    if chapter.disk is not None:
        image = disk.image_path(settings.log_dir, chapter.name, config.name)
        try:
            extra += disk.qemu_args(disk.make(chapter.disk, image))
        except (OSError, disk.mmfs.MmfsError) as err:
            return qemu.Boot(config.name, [settings.qemu], log_path, timeout, start_error=f"cannot make the disk image {image}: {err}")
    argv = qemu.command(settings.qemu, kernel, config.memory, config.smp, bootargs, extra)
    settings.progress(f"{chapter.name}/{config.name}: {shlex.join(argv)}")
    boot = qemu.run(config.name, argv, log_path, timeout, test_order)
    boot.disk = image
    settings.progress(f"{chapter.name}/{config.name}: {_summary(boot)}")
    return boot


def _summary(boot: qemu.Boot) -> str:
    """One line about how a boot ended, for -v."""
    failure = boot.failure()
    ending = f"{failure.status.label}: {failure.detail}" if failure else f"exit code {boot.exit_code}"
    return f"{ending} after {boot.elapsed:.1f} s, {len(boot.ktap.tests())} test results"


def bench_boot(chapter: Chapter, settings: Settings) -> qemu.Boot:
    """Boot the chapter's kernel once to run its benchmarks (exact instruction counts)."""
    kernel = build.kernel_path(settings.root, chapter.number)
    log_path = settings.log_dir / f"{chapter.name}-bench.log"
    timeout = chapter.timeout * settings.timeout_scale
    extra = BENCH_EXTRA
    if chapter.disk is not None:
        image = disk.image_path(settings.log_dir, chapter.name, "bench")
        try:
            extra += disk.qemu_args(disk.make(chapter.disk, image))
        except (OSError, disk.mmfs.MmfsError) as err:
            return qemu.Boot("bench", [settings.qemu], log_path, timeout, start_error=f"cannot make the disk image {image}: {err}")
    argv = qemu.command(settings.qemu, kernel, BENCH_MEMORY, 1, f"bench={chapter.bench}", extra)
    settings.progress(f"{chapter.name}/bench: {shlex.join(argv)}")
    return qemu.run("bench", argv, log_path, timeout)
