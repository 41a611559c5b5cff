"""The errors of scripts/handout.py: what the user must fix."""

class HandoutError(Exception):
    """Something the user must fix; the message says what (and where, as file:line)."""


class MarkerError(HandoutError):
    """Malformed markers: one `file:line: message` per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))
