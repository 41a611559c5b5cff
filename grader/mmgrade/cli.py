"""Command line of grade.py: parse options, pick chapters, run a mode, set the exit code."""

import argparse
import os
import re
import sys
import time
from pathlib import Path

from . import check, export, grading, markdown, progress, qemu, report, schedule, score
from .rubric import Chapter, RubricError, load

GRADER_DIR = Path(__file__).resolve().parent.parent
EXIT_FULL_SCORE, EXIT_NOT_FULL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """A command line that cannot be carried out."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="grade.py",
        description="Build, boot and grade mmlab chapters against grader/rubric.toml.",
    )
    parser.add_argument("chapters", nargs="*", metavar="CH", help="chapters to grade (1 or ch1); default: all present")
    parser.add_argument("--root", type=Path, default=GRADER_DIR.parent, help="the mmlab tree (default: this grader's)")
    parser.add_argument("--rubric", type=Path, default=GRADER_DIR / "rubric.toml", help="the rubric (default: %(default)s)")
    parser.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=(os.cpu_count() or 1) + 1,
        help="boots at once (default: one more than the CPUs, %(default)s: a boot waits on timers part of the time)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="write Gradescope results.json to FILE")
    parser.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML to FILE")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="append the report as Markdown to FILE")
    parser.add_argument("--qemu", default=os.environ.get("MMLAB_QEMU", "qemu-system-riscv64"), help="QEMU binary (env MMLAB_QEMU)")
    parser.add_argument("--make", default="make", metavar="CMD", help="make command (default: make)")
    parser.add_argument("--no-build", action="store_true", help="boot build/chN/kernel.elf as it is")
    parser.add_argument(
        "--timeout-scale", type=float, metavar="FLOAT", help="multiply every boot timeout (env MMLAB_TIMEOUT_SCALE)"
    )
    parser.add_argument("--check-rubric", action="store_true", help="compare the rubric with KTEST()s in chN/tests/*.c")
    parser.add_argument("--bench", metavar="CH", help="run chapter CH's benchmarks and print them")
    parser.add_argument("--only", action="append", default=[], metavar="CONFIG", help="boot only these configurations")
    parser.add_argument("-v", "--verbose", action="store_true", help="print commands and boot endings as they happen")
    return parser.parse_args(argv)


def chapter_number(token: str) -> int:
    """1 from '1' or 'ch1'."""
    match = re.fullmatch(r"(?:ch)?(\d+)", token.strip().lower())
    if not match:
        raise UsageError(f"not a chapter: {token!r} (want 1 or ch1)")
    return int(match[1])


def select_chapters(tokens: list[str], chapters: dict[int, Chapter], root: Path) -> list[Chapter]:
    """The chapters named on the command line, or every rubric chapter whose chN/ exists."""
    if not tokens:
        present = [chapter for chapter in chapters.values() if (root / chapter.name).is_dir()]
        if not present:
            raise UsageError(f"no chapter of the rubric has a directory in {root}")
        return present
    selected = []
    for token in tokens:
        number = chapter_number(token)
        if number not in chapters:
            raise UsageError(f"ch{number} has no section in the rubric")
        selected.append(chapters[number])
    return selected


def make_settings(args: argparse.Namespace) -> grading.Settings:
    """Settings from the parsed command line."""
    scale = args.timeout_scale if args.timeout_scale is not None else _env_scale()
    if scale <= 0:
        raise UsageError("the timeout scale must be positive")
    only = tuple(name.strip() for value in args.only for name in value.split(",") if name.strip())
    return grading.Settings(
        root=args.root.resolve(),
        qemu=args.qemu,
        make=args.make,
        jobs=args.jobs,
        timeout_scale=scale,
        build=not args.no_build,
        only=only,
        verbose=args.verbose,
        show_progress=progress.wanted(sys.stderr, args.verbose),
    )


def _env_scale() -> float:
    """MMLAB_TIMEOUT_SCALE, or 1."""
    value = os.environ.get("MMLAB_TIMEOUT_SCALE", "1")
    try:
        return float(value)
    except ValueError:
        raise UsageError(f"MMLAB_TIMEOUT_SCALE={value!r} is not a number") from None


def check_only(chapters: list[Chapter], settings: grading.Settings) -> None:
    """Reject an --only that leaves a chapter with no configuration to boot."""
    for chapter in chapters:
        if settings.only and not grading.selected_configs(chapter, settings):
            names = ", ".join(config.name for config in chapter.configs)
            raise UsageError(f"--only {','.join(settings.only)}: {chapter.name} has no such configuration ({names})")


def run_grade(
    chapters: list[Chapter], settings: grading.Settings, args: argparse.Namespace, rubric: dict[int, Chapter]
) -> int:
    """Grade @p chapters (of @p rubric), print the report, write --json/--junit; exit 0 only on full score."""
    check_only(chapters, settings)
    paint = report.Painter(use_color())
    start = time.monotonic()

    def show(result: score.ChapterResult) -> None:
        print(report.chapter_block(result, paint), end="", flush=True)

    results, counts = schedule.grade_chapters(chapters, settings, rubric, show)
    elapsed = time.monotonic() - start
    print(report.summary(results, report.timing_line(elapsed, counts, settings.jobs)), end="")
    if args.json:
        export.write_gradescope(args.json, results, elapsed, report.render(results, report.Painter(False)))
    if args.junit:
        export.write_junit(args.junit, results, elapsed)
    if args.markdown:
        markdown.write(args.markdown, results)
    full = all(item.passed for result in results for item in result.items)
    return EXIT_FULL_SCORE if full else EXIT_NOT_FULL


def run_check(chapters: list[Chapter], all_chapters: dict[int, Chapter] | None, root: Path) -> int:
    """--check-rubric: print every mismatch; exit 1 if there is any.

    With @p all_chapters (no chapter named on the command line), chapters
    that have tests but no rubric section are mismatches too.
    """
    problems = check.unrubricated_chapters(root, all_chapters) if all_chapters is not None else []
    for chapter in chapters:
        problems += check.check_chapter(chapter, root)
    for problem in problems:
        print(f"check-rubric: {problem}")
    names = ", ".join(chapter.name for chapter in chapters)
    print(f"check-rubric: {len(problems)} problem(s)" if problems else f"check-rubric: {names} OK")
    return EXIT_NOT_FULL if problems else EXIT_FULL_SCORE


def run_bench(chapter: Chapter, settings: grading.Settings) -> int:
    """--bench: boot once under icount, print the `# bench` lines; fail if none or the boot failed."""
    failure = grading.prepare_kernel(chapter, settings)
    paint = report.Painter(use_color())
    if failure is not None:
        print("\n".join(report.build_lines(failure, paint)))
        return EXIT_NOT_FULL
    boot = grading.bench_boot(chapter, settings)
    print(f"{chapter.name} benchmarks (-icount shift=0 -smp 1 -m {grading.BENCH_MEMORY}, bench={chapter.bench}):")
    width = max((len(bench.name) for bench in boot.ktap.benches), default=0)
    for bench in boot.ktap.benches:
        print(f"  {bench.name:<{width}}  {bench.value:>12}  {bench.unit}")
    for line in target_lines(chapter, boot.ktap.benches):
        print(line)
    problem = _bench_problem(boot)
    if problem is None:
        return EXIT_FULL_SCORE
    print("\n".join(report.boot_lines(boot, problem, paint)))
    return EXIT_NOT_FULL


def _number(text: str | None) -> float | None:
    """A bench value as a number, or None if it is missing or not one."""
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def target_lines(chapter: Chapter, benches: list) -> list[str]:
    """The chapter's targets: each figure beside its bound and its anchor, and "meets" or "short".

    A short figure is reported, not failed: a benchmark prints what it
    measured, and the targets say what the course aims at.
    """
    if not chapter.targets:
        return []
    values = {bench.name: bench.value for bench in benches}
    width = max(len(target.bench) for target in chapter.targets)
    lines = [f"{chapter.name} targets:"]
    met = 0
    for target in chapter.targets:
        value = _number(values.get(target.bench))
        verdict = "no figure" if value is None else "meets" if target.meets(value) else "short"
        met += verdict == "meets"
        shown = values.get(target.bench, "-")
        line = f"  {target.bench:<{width}}  {shown:>12}  {target.describe():<16}  {verdict}"
        if target.anchor:
            anchor = _number(values.get(target.anchor))
            line += f"   anchor {target.anchor}: {values.get(target.anchor, 'no figure')}"
            if anchor and value:
                line += f" ({anchor / value:.1f}x ours)"
        lines.append(line)
    lines.append(f"{chapter.name}: {met} of {len(chapter.targets)} targets met")
    return lines


def _bench_problem(boot: qemu.Boot) -> str | None:
    """Why a benchmark boot does not count, or None if it does."""
    failure = boot.failure(expect_ktap=False)
    if failure is not None:
        return f"{failure.status.label}: {failure.detail}"
    if not boot.ktap.benches:
        return f"no '# bench' line was printed (exit code {boot.exit_code})"
    if boot.exit_code != 0:
        return f"kernel powered off with exit code {boot.exit_code}"
    return None


def use_color() -> bool:
    """Colors only on a terminal, and never with NO_COLOR set."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def main(argv: list[str] | None = None) -> int:
    """Run grade.py with @p argv; return the exit code."""
    args = parse_args(argv)
    try:
        all_chapters = load(args.rubric)
        settings = make_settings(args)
        if args.bench is not None:
            return run_bench(select_chapters([args.bench], all_chapters, settings.root)[0], settings)
        chapters = select_chapters(args.chapters, all_chapters, settings.root)
        if args.check_rubric:
            return run_check(chapters, None if args.chapters else all_chapters, settings.root)
        return run_grade(chapters, settings, args, all_chapters)
    except (RubricError, UsageError) as err:
        print(f"grade.py: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("grade.py: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
