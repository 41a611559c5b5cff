"""The errors of scripts/handout.py: what the user must fix."""

import time
from collections.abc import Callable

class HandoutError(Exception):
    """Something the user must fix; the message says what (and where, as file:line)."""


class MarkerError(HandoutError):
    """Malformed markers: one `file:line: message` per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def run_reporting(work: Callable[[], None], problems: list[str]) -> float:
    """Run @p work; what it raises becomes a line of @p problems. Returns the seconds it took.

    A HandoutError says what to fix; any other exception is reported as an
    internal error, so that one chapter's failure does not lose the others.
    """
    start = time.monotonic()
    try:
        work()
    except HandoutError as err:
        problems.append(str(err))
    except Exception as err:  # noqa: BLE001 - report it, do not lose the other chapters
        problems.append(f"internal error in handout.py: {type(err).__name__}: {err}")
    return time.monotonic() - start
