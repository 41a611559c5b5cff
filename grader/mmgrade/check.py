"""``--check-rubric``: compare the rubric with the tree's KTEST()s and stubs.

Items against the KTEST(...) uses in chN/tests/*.c (see sources.py for how
a KTEST's printed name is made) and the external suites added there, and ``[[chN.exercise]]`` entries against
the TODO("chN", "<name>: ...") stubs in chN/src.
"""

import re
from pathlib import Path

from .rubric import Chapter
from .sources import external_suites_in, find_stubs, ktests_in, user_suites_in, user_tests_in

TOTAL_POINTS = 100
STAMP = ".handout"


def declared_tests(root: Path, number: int, directory: str | None = None) -> dict[str, str]:
    """Every KTEST in ch<number>/tests/*.c (or <directory>/*.c): ``suite.test`` -> ``file:line``."""
    tests = {}
    for test in ktests_in(root, directory or f"ch{number}/tests"):
        tests.setdefault(test.key, test.location)
    return tests


def user_tests(root: Path, chapter: str) -> dict[str, str]:
    """Every TEST(name) of <chapter>/user/tests/*.c, and the kernel's last test of each: ``suite.test`` -> ``file:line``."""
    return {test.key: test.location for test in user_tests_in(root, chapter)}


def selected_test_dirs(chapter: Chapter) -> list[str]:
    """Test directories, besides the chapter's own, whose suites its ktest filter selects."""
    dirs = []
    for glob in chapter.ktest.split(","):
        prefix = glob.strip().split(".", 1)[0]
        if prefix == "common":
            dirs.append("common/tests")
        elif re.fullmatch(r"ch\d+", prefix) and prefix != chapter.name:
            dirs.append(f"{prefix}/tests")
    return dirs


def check_chapter(chapter: Chapter, root: Path) -> list[str]:
    """Every disagreement between @p chapter's rubric items and its KTESTs.

    A chapter whose ``ktest`` filter also selects ``common.*`` or an earlier
    chapter's ``chK.*`` owns those tests too: each of their suites needs an
    item (a 0-point one: they are prerequisites, not this chapter's work).
    """
    tests = declared_tests(root, chapter.number)
    external = external_suites_in(root, f"ch{chapter.number}/tests")
    external.update(user_suites_in(root, chapter.name))
    tests.update(user_tests(root, chapter.name))
    for directory in selected_test_dirs(chapter):
        tests.update(declared_tests(root, chapter.number, directory))
        external.update(external_suites_in(root, directory))
        external.update(user_suites_in(root, directory.split("/")[0]))
        tests.update(user_tests(root, directory.split("/")[0]))
    suites = {key.rsplit(".", 1)[0] for key in tests} | set(external)
    where = f"ch{chapter.number}/tests/*.c"
    problems = []
    for item in chapter.items:
        if item.disk_check is not None:
            after = item.disk_check.after
            if after and after not in suites:
                problems.append(f"{item.name}: disk check after {after}, which is no {_declaration(after, where)}")
            continue
        if item.test is not None and item.name not in tests:
            problems.append(f"{item.name}: rubric item with no {_declaration(item.suite, where, item.test)}")
        if item.test is None and item.suite not in suites:
            problems.append(f"{item.name}: whole-suite rubric item with no {_declaration(item.suite, where)}")
    for item in chapter.items:
        if not item.suite.startswith(f"{chapter.name}.") and item.points:
            problems.append(f"{item.name}: another layer's suite, a prerequisite here: it must have 0 points")
    covered = {item.name for item in chapter.items}
    uncovered_suites = {suite for suite in external if suite not in covered and not any(key.startswith(suite + ".") for key in covered)}
    for key, location in tests.items():
        suite = key.rsplit(".", 1)[0]
        if key not in covered and suite not in covered and suite not in uncovered_suites:
            kind = "user test" if ".user." in key else "KTEST"
            problems.append(f"{key} ({location}): {kind} with no rubric item")
    for suite, location in external.items():
        if suite in uncovered_suites:
            kind = "user test program" if ".user." in suite else "external suite (ktest_add_suite)"
            problems.append(f"{suite} ({location}): {kind} with no rubric item")
    if chapter.max_points != TOTAL_POINTS:
        problems.append(f"{chapter.name}: points add up to {chapter.max_points:g}, not {TOTAL_POINTS}")
    if not _solved_in_handout(root, chapter.number):
        problems += check_exercises(chapter, root)
    return problems


def check_exercises(chapter: Chapter, root: Path) -> list[str]:
    """Every stub in chN/src has a [[chN.exercise]] entry, and every entry names a stub.

    The stub's name is what its TODO("chN", "<name>: <what>") says before
    the ':'; the entry's ``todo`` must be that name.
    """
    stubs = find_stubs(root, chapter.number)
    named = {exercise.todo for exercise in chapter.exercises}
    problems = []
    for stub in stubs:
        if stub.name not in named:
            problems.append(
                f'{stub.location}: TODO("{chapter.name}", "{stub.what}") has no [[{chapter.name}.exercise]] '
                f'entry with todo = "{stub.name}"'
            )
    found = {stub.name for stub in stubs}
    for exercise in chapter.exercises:
        if exercise.todo not in found:
            problems.append(
                f'{chapter.name} exercise "{exercise.todo}": no stub TODO("{chapter.name}", "{exercise.todo}: ...") '
                f"in {chapter.name}/src"
            )
    return problems


def _solved_in_handout(root: Path, number: int) -> bool:
    """True in a student tree (stamped .handout) for a chapter before its own: its stubs are solved."""
    stamp = root / STAMP
    if not stamp.is_file():
        return False
    match = re.search(r"^chapter\s*=\s*([0-9]+)", stamp.read_text(errors="replace"), re.M)
    return bool(match) and number < int(match[1])


def unrubricated_chapters(root: Path, chapters: dict[int, Chapter]) -> list[str]:
    """Chapters whose tests directory has KTESTs but which have no rubric section."""
    problems = []
    for tests_dir in sorted(root.glob("ch*/tests")):
        match = re.fullmatch(r"ch(\d+)", tests_dir.parent.name)
        if match and int(match[1]) not in chapters and declared_tests(root, int(match[1])):
            problems.append(f"{tests_dir.parent.name}: has KTESTs but no [{tests_dir.parent.name}] section in the rubric")
    return problems


def _declaration(suite: str, where: str, test: str | None = None) -> str:
    """What declares @p test of @p suite (or the whole suite): for chN.user.TOPIC a user test
    program (a TEST(test) in it), else a KTEST in @p where."""
    chapter, _, rest = suite.partition(".")
    if rest.startswith("user."):
        program = f"{chapter}/user/tests/{rest[5:]}.c"
        return f"TEST({test}) in {program}" if test else f"user test program {program}"
    return f"KTEST({_ident(suite)}, {test or '...'}) in {where}"


def _ident(suite: str) -> str:
    """The KTEST identifier of a printed suite name (ch1.buddy -> ch1_buddy)."""
    return suite.replace(".", "_", 1)
