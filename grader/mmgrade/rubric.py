"""Load and validate grader/rubric.toml (its schema is documented at the top of that file)."""

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from . import mmfs
from .dtb import RECIPES

CHAPTER_RE = re.compile(r"^ch(?P<number>\d+)$")
CONFIG_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

CHAPTER_KEYS = {"title", "ktest", "bench", "timeout", "configs", "suite", "exercise", "disk", "disk_check", "target"}
CONFIG_KEYS = {"name", "memory", "smp", "bootargs", "dtb"}
SUITE_KEYS = {"name", "hint", "allow_skip", "points", "tests", "visibility"}
TEST_KEYS = {"name", "points", "hint", "allow_skip", "visibility"}
EXERCISE_KEYS = {"todo", "title", "hint"}
TARGET_KEYS = {"bench", "at_most", "at_least", "anchor"}
DISK_KEYS = {"size", "inodes", "files"}
DISK_FILE_KEYS = {"name", "content"}
DISK_CHECK_KEYS = {"name", "points", "hint", "after", "file", "expect", "visibility"}
# When Gradescope shows a student an item's result (its test visibility values; the default is visible).
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
# A stub's name: what its TODO("chN", "<name>: <what>") says before the ':'.
TODO_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_ .-]*$")


class RubricError(Exception):
    """The rubric file is missing, not TOML, or does not follow the schema."""


@dataclass(frozen=True)
class Config:
    """One way to boot a chapter: QEMU's -m and -smp, extra bootargs, and a device-tree recipe (dtb.py)."""

    name: str
    memory: str
    smp: int
    bootargs: str = ""
    dtb: str = ""


@dataclass(frozen=True)
class DiskCheck:
    """What a disk check item reads out of the image after a boot.

    file: the file's name; expect: a content spec (mmfs.parse_content) of
    its exact bytes; after: the suite that leaves it so ("" if none): a boot
    that did not run that suite to its end makes the check "did not run".
    """

    file: str
    expect: str
    after: str = ""


@dataclass(frozen=True)
class Item:
    """One scored line of the rubric: a single test, a whole suite (test is None), or a disk check."""

    suite: str
    test: str | None
    points: float
    hint: str
    allow_skip: bool
    disk_check: DiskCheck | None = None
    visibility: str = "visible"  # Gradescope's: one of VISIBILITIES

    @property
    def name(self) -> str:
        """``suite.test`` for a test item, ``suite`` for a whole-suite item."""
        return f"{self.suite}.{self.test}" if self.test else self.suite


@dataclass(frozen=True)
class Exercise:
    """One exercise of a chapter: the stub it replaces, named as its TODO() names it.

    A handout stub calls ``TODO("chN", "<todo>: <what>")``; the grader reports
    a test it blocks as "not implemented: <todo>: <what>" and shows this hint.
    """

    todo: str
    title: str
    hint: str


@dataclass(frozen=True)
class Target:
    """A figure of --bench and the bound it should keep: at most, or at least, a number.

    anchor: another figure of the same boot to print beside it (what the
    figure is measured against, such as xv6's allocator), or "".
    """

    bench: str
    bound: float
    at_most: bool
    anchor: str = ""

    def describe(self) -> str:
        """``at most 250`` or ``at least 0.9``."""
        return f"{'at most' if self.at_most else 'at least'} {self.bound:g}"

    def meets(self, value: float) -> bool:
        """True if @p value keeps the bound."""
        return value <= self.bound if self.at_most else value >= self.bound


@dataclass(frozen=True)
class DiskFile:
    """A seed file of the disk image: its name and a content spec (mmfs.parse_content)."""

    name: str
    content: str

    def data(self) -> bytes:
        """The file's bytes."""
        return mmfs.render(mmfs.parse_content(self.content))


@dataclass(frozen=True)
class Disk:
    """The mmfs image attached to every boot of a chapter: size in bytes, inodes, seed files."""

    size: int
    inodes: int
    files: tuple[DiskFile, ...]


@dataclass(frozen=True)
class Chapter:
    """One chapter's section of the rubric."""

    number: int
    title: str
    ktest: str
    bench: str
    timeout: float
    configs: tuple[Config, ...]
    items: tuple[Item, ...]
    exercises: tuple[Exercise, ...] = ()
    disk: Disk | None = None
    targets: tuple[Target, ...] = ()

    @property
    def name(self) -> str:
        """``chN``."""
        return f"ch{self.number}"

    def exercise(self, todo: str) -> tuple[int, Exercise] | None:
        """The exercise whose stub is called @p todo, with its number (1 = taught first)."""
        for number, exercise in enumerate(self.exercises, start=1):
            if exercise.todo == todo:
                return number, exercise
        return None

    @property
    def max_points(self) -> float:
        """The points of every item together."""
        return sum(item.points for item in self.items)


def load(path: Path) -> dict[int, Chapter]:
    """Read the rubric at @p path; return its chapters by number, in file order."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise RubricError(f"cannot read rubric {path}: {err.strerror}") from err
    except tomllib.TOMLDecodeError as err:
        raise RubricError(f"{path}: {err}") from err
    chapters = {}
    for key, table in data.items():
        match = CHAPTER_RE.match(key)
        if not match or not isinstance(table, dict):
            raise RubricError(f"{path}: unexpected top-level key {key!r} (want [chN] tables)")
        chapter = _chapter(int(match["number"]), table)
        chapters[chapter.number] = chapter
    if not chapters:
        raise RubricError(f"{path}: no [chN] section")
    return chapters


def _chapter(number: int, table: dict) -> Chapter:
    """Build one chapter from its [chN] table."""
    where = f"[ch{number}]"
    _check_keys(table, CHAPTER_KEYS, where)
    configs = tuple(_config(entry, f"{where} configs") for entry in _list(table, "configs", where))
    if not configs:
        raise RubricError(f"{where}: configs is empty")
    _check_unique([config.name for config in configs], f"{where} configuration")
    suites = _list(table, "suite", where) if "suite" in table else []
    items = tuple(item for entry in suites for item in _suite(number, entry, where))
    disk = _disk(table["disk"], f"{where} disk") if "disk" in table else None
    checks = tuple(_disk_check(number, entry, f"{where} disk_check") for entry in _list(table, "disk_check", where, []))
    if checks and disk is None:
        raise RubricError(f"{where}: disk_check items need a disk ([ch{number}.disk])")
    items += checks
    _check_unique([entry["name"] for entry in suites], f"{where} suite")
    _check_unique([item.name for item in items], f"{where} item")
    exercises = tuple(_exercise(entry, f"{where} exercise") for entry in _list(table, "exercise", where, []))
    _check_unique([exercise.todo for exercise in exercises], f"{where} exercise")
    targets = tuple(_target(entry, f"{where} target") for entry in _list(table, "target", where, []))
    _check_unique([target.bench for target in targets], f"{where} target")
    return Chapter(
        number=number,
        title=_get(table, "title", str, where),
        ktest=_get(table, "ktest", str, where, f"ch{number}.*"),
        bench=_get(table, "bench", str, where, f"ch{number}.*"),
        timeout=_timeout(table, where),
        configs=configs,
        items=items,
        exercises=exercises,
        disk=disk,
        targets=targets,
    )


def _disk(table, where: str) -> Disk:
    """Build the chapter's disk from its [chN.disk] table; the seed files must fit."""
    if not isinstance(table, dict):
        raise RubricError(f"{where}: must be a table")
    _check_keys(table, DISK_KEYS, where)
    try:
        size = mmfs.parse_size(_get(table, "size", (str, int), where, mmfs.DEFAULT_SIZE))
        inodes = _get(table, "inodes", int, where, mmfs.DEFAULT_INODES)
        mmfs.Geometry.plan(size, inodes)
    except mmfs.MmfsError as err:
        raise RubricError(f"{where}: {err}") from err
    files = []
    for entry in _list(table, "files", where, []):
        _check_keys(entry, DISK_FILE_KEYS, f"{where} files")
        name = _get(entry, "name", str, f"{where} files")
        content = _get(entry, "content", str, f"{where} files {name!r}")
        try:
            mmfs.check_name(name)
            runs = mmfs.parse_content(content)
        except mmfs.MmfsError as err:
            raise RubricError(f"{where} files {name!r}: {err}") from err
        files.append((DiskFile(name, content), mmfs.content_size(runs)))
    _check_unique([file.name for file, _ in files], f"{where} file")
    problem = mmfs.fits(size, inodes, [file_size for _, file_size in files])
    if problem:
        raise RubricError(f"{where}: the seed files do not fit: {problem}")
    return Disk(size, inodes, tuple(file for file, _ in files))


def _disk_check(number: int, entry: dict, where: str) -> Item:
    """Build one [[chN.disk_check]] item: a file of the image compared with its expected bytes after each boot."""
    _check_keys(entry, DISK_CHECK_KEYS, where)
    name = _get(entry, "name", str, where)
    where = f"{where} {name!r}"
    if not name.startswith(f"ch{number}."):
        raise RubricError(f"{where}: a disk check's name starts with 'ch{number}.'")
    file = _get(entry, "file", str, where)
    expect = _get(entry, "expect", str, where)
    try:
        mmfs.check_name(file.lstrip("/"))
        mmfs.parse_content(expect)
    except mmfs.MmfsError as err:
        raise RubricError(f"{where}: {err}") from err
    check = DiskCheck(file, expect, _get(entry, "after", str, where, ""))
    hint = _get(entry, "hint", str, where, "")
    return Item(name, None, _points(entry, where), hint, False, check, _visibility(entry, where, "visible"))


def _timeout(table: dict, where: str) -> float:
    """The chapter's boot timeout in seconds (default 60)."""
    timeout = float(_get(table, "timeout", (int, float), where, 60))
    if timeout <= 0:
        raise RubricError(f"{where}: timeout must be positive")
    return timeout


def _config(entry: dict, where: str) -> Config:
    """Build one configuration from its inline table."""
    _check_keys(entry, CONFIG_KEYS, where)
    name = _get(entry, "name", str, where)
    if not CONFIG_NAME_RE.match(name):
        raise RubricError(f"{where}: configuration name {name!r} must be usable in a file name")
    smp = _get(entry, "smp", int, where)
    if smp < 1:
        raise RubricError(f"{where}: {name}: smp must be at least 1")
    dtb = _get(entry, "dtb", str, where, "")
    if dtb and dtb not in RECIPES:
        raise RubricError(f"{where}: {name}: no device-tree recipe {dtb!r} (known: {', '.join(sorted(RECIPES))})")
    return Config(name, _get(entry, "memory", str, where), smp, _get(entry, "bootargs", str, where, ""), dtb)


def _exercise(entry: dict, where: str) -> Exercise:
    """Build one exercise from its [[chN.exercise]] entry."""
    _check_keys(entry, EXERCISE_KEYS, where)
    todo = _get(entry, "todo", str, where)
    if not TODO_NAME_RE.match(todo):
        raise RubricError(f"{where}: todo {todo!r} must be a stub's name, the text before ':' in its TODO()")
    where = f"{where} {todo!r}"
    return Exercise(todo, _get(entry, "title", str, where), _get(entry, "hint", str, where))


def _target(entry: dict, where: str) -> Target:
    """Build one [[chN.target]] entry: a bench figure and its bound (exactly one of at_most, at_least)."""
    _check_keys(entry, TARGET_KEYS, where)
    bench = _get(entry, "bench", str, where)
    where = f"{where} {bench!r}"
    bounds = [key for key in ("at_most", "at_least") if key in entry]
    if len(bounds) != 1:
        raise RubricError(f"{where}: give exactly one of at_most and at_least")
    bound = _get(entry, bounds[0], (int, float), where)
    if isinstance(bound, bool):
        raise RubricError(f"{where}: {bounds[0]} must be a number")
    return Target(bench, float(bound), bounds[0] == "at_most", _get(entry, "anchor", str, where, ""))


def _suite(number: int, entry: dict, where: str) -> list[Item]:
    """The items of one [[chN.suite]] entry: one per test, or one for the whole suite."""
    where = f"{where} suite"
    _check_keys(entry, SUITE_KEYS, where)
    suite = _get(entry, "name", str, where)
    where = f"{where} {suite!r}"
    if not _suite_allowed(suite, number):
        raise RubricError(f"{where}: suite names start with 'ch{number}.' (or 'common.' or an earlier 'chK.')")
    hint = _get(entry, "hint", str, where, "")
    allow_skip = _get(entry, "allow_skip", bool, where, False)
    visibility = _visibility(entry, where, "visible")
    if ("points" in entry) == ("tests" in entry):
        raise RubricError(f"{where}: give either points (whole suite) or tests, not both")
    if "points" in entry:
        return [Item(suite, None, _points(entry, where), hint, allow_skip, visibility=visibility)]
    return [_test(suite, test, hint, allow_skip, visibility, where) for test in _list(entry, "tests", where)]


def _test(suite: str, entry: dict, hint: str, allow_skip: bool, visibility: str, where: str) -> Item:
    """Build one test item; hint, allow_skip and visibility default to the suite's."""
    _check_keys(entry, TEST_KEYS, f"{where} tests")
    name = _get(entry, "name", str, f"{where} tests")
    where = f"{where} test {name!r}"
    if not IDENT_RE.match(name):
        raise RubricError(f"{where}: a test name is a C identifier")
    return Item(
        suite=suite,
        test=name,
        points=_points(entry, where),
        hint=_get(entry, "hint", str, where, hint),
        allow_skip=_get(entry, "allow_skip", bool, where, allow_skip),
        visibility=_visibility(entry, where, visibility),
    )


def _visibility(entry: dict, where: str, default: str) -> str:
    """An item's Gradescope visibility: one of VISIBILITIES (@p default if not given)."""
    visibility = _get(entry, "visibility", str, where, default)
    if visibility not in VISIBILITIES:
        raise RubricError(f"{where}: visibility {visibility!r} is not one of {', '.join(VISIBILITIES)}")
    return visibility


def _suite_allowed(suite: str, number: int) -> bool:
    """A chapter scores its own suites; common's and earlier chapters' only as prerequisites."""
    prefix = suite.split(".", 1)[0]
    if prefix == "common":
        return True
    return prefix.startswith("ch") and prefix[2:].isdigit() and int(prefix[2:]) <= number


def _points(entry: dict, where: str) -> float:
    """The non-negative points of an item."""
    points = _get(entry, "points", (int, float), where)
    if points < 0:
        raise RubricError(f"{where}: points must be a non-negative number")
    return points


_MISSING = object()


def _get(table: dict, key: str, kind, where: str, default=_MISSING):
    """table[key], checked to be of @p kind; @p default if absent (required if none)."""
    if key not in table:
        if default is _MISSING:
            raise RubricError(f"{where}: missing {key!r}")
        return default
    value = table[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise RubricError(f"{where}: {key!r} has the wrong type ({type(value).__name__})")
    return value


def _list(table: dict, key: str, where: str, default=_MISSING) -> list:
    """table[key] as a list of tables (@p default if absent, required if none)."""
    value = _get(table, key, list, where, default)
    if not all(isinstance(entry, dict) for entry in value):
        raise RubricError(f"{where}: {key!r} must be a list of tables")
    return value


def _check_keys(table: dict, allowed: set[str], where: str) -> None:
    """Reject keys the schema does not know (most often a typo)."""
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise RubricError(f"{where}: unknown key(s) {', '.join(unknown)}")


def _check_unique(names: list[str], what: str) -> None:
    """Reject a name given twice."""
    seen = set()
    for name in names:
        if name in seen:
            raise RubricError(f"{what} {name!r} is given twice")
        seen.add(name)
