"""What handout.py reads from grader/rubric.toml: the [[chN.exercise]] entries, in order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import HandoutError

@dataclass(frozen=True)
class RubricExercise:
    """One [[chN.exercise]] entry of the rubric: its stub's name and its short title."""

    todo: str
    title: str


def rubric_exercises(root: Path, n: int) -> list[RubricExercise]:
    """Chapter @p n's exercises, in the order grader/rubric.toml (and the guide) lists them."""
    import tomllib

    rubric = root / "grader" / "rubric.toml"
    try:
        data = tomllib.loads(rubric.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise HandoutError(f"cannot read the exercises from {rubric}: {err}") from err
    entries = data.get(f"ch{n}", {}).get("exercise", [])
    exercises = [RubricExercise(str(e.get("todo")), str(e.get("title", e.get("todo")))) for e in entries
                 if isinstance(e, dict) and e.get("todo")]  # fmt: skip
    if not exercises:
        raise HandoutError(
            f"{rubric} lists no [[ch{n}.exercise]]: there is no order to solve chapter {n}'s exercises in"
        )
    return exercises


def rubric_order(root: Path, n: int) -> list[str] | None:
    """The stub names of chapter @p n's exercises in rubric order, or None if the rubric lists none."""
    try:
        return [exercise.todo for exercise in rubric_exercises(root, n)]
    except HandoutError:
        return None
