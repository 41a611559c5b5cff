"""Tell a stuck student where to go: the exercise whose stub blocked a test.

A test that ran into a handout stub is "not implemented: <name>: <what>"
(the stub printed ``TODO(chN): <name>: <what>``). Its own hint is about what
the test checks, which is beside the point until the stub is written: the
report shows instead the hint of the rubric's exercise <name> of chapter N
(``[[chN.exercise]]``) and where its stub is in the graded tree.
"""

from dataclasses import dataclass
from pathlib import Path

from .rubric import Chapter, Exercise
from .score import ChapterResult
from .sources import Stub, find_stubs, todo_name


@dataclass(frozen=True)
class Blocker:
    """The exercise behind a stub that blocked an item, and where that stub is."""

    chapter: int
    number: int
    exercise: Exercise
    stubs: tuple[str, ...] = ()

    def where(self) -> str:
        """``ch3 exercise 4, unmap (stub at ch3/src/unmap.c:52)``."""
        text = f"ch{self.chapter} exercise {self.number}, {self.exercise.title}"
        if self.stubs:
            text += f" (stub at {', '.join(self.stubs)})"
        return text


class StubFinder:
    """Looks stubs up in a tree, scanning each chapter's sources once."""

    def __init__(self, root: Path):
        self.root = root
        self._stubs: dict[int, list[Stub]] = {}

    def locations(self, chapter: int, name: str) -> tuple[str, ...]:
        """``file:line`` of every stub of chapter @p chapter called @p name."""
        if chapter not in self._stubs:
            self._stubs[chapter] = find_stubs(self.root, chapter)
        return tuple(stub.location for stub in self._stubs[chapter] if stub.name == name)


def blocker(todo: tuple[int, str], chapters: dict[int, Chapter], stubs: StubFinder) -> Blocker | None:
    """The exercise of stub @p todo (its chapter and TODO text), or None if the rubric has none."""
    number, what = todo
    chapter = chapters.get(number)
    found = chapter.exercise(todo_name(what)) if chapter else None
    if found is None:
        return None
    index, exercise = found
    return Blocker(number, index, exercise, stubs.locations(number, exercise.todo))


def attach(result: ChapterResult, chapters: dict[int, Chapter], root: Path, stubs: StubFinder | None = None) -> None:
    """Fill in the blockers of every item of @p result that a stub made "not implemented"."""
    stubs = stubs or StubFinder(root)
    for item in result.items:
        found = (blocker(todo, chapters, stubs) for todo in item.todos)
        item.blockers = list(dict.fromkeys(b for b in found if b is not None))
