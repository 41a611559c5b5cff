"""What a chapter's handout says: a source with its regions solved or stubbed, and the README section."""

from __future__ import annotations

from dataclasses import dataclass

from .markers import SourceFile, stub_names

README_BEGIN = "<!-- mmlab-handout: begin (written by scripts/handout.py) -->"
README_END = "<!-- mmlab-handout: end -->"


@dataclass
class Exercise:
    """A TODO left in a handout: where (in the handout), what, and its stub's name (see stub_names)."""

    path: str
    line: int
    ch: int
    what: str
    name: str = ""


def render(source: SourceFile, n: int, solved: frozenset[str] = frozenset()) -> tuple[str, list[Exercise]]:
    """The text of @p source in chapter @p n's handout, and the TODOs it holds.

    Regions of chapters before @p n keep their solution, and so do those whose
    `where` is in @p solved (a partly solved chapter, for --progress).
    """
    out: list[str] = []
    exercises: list[Exercise] = []
    for part in source.parts:
        if isinstance(part, str):
            out.append(part)
        elif part.ch < n or part.where in solved:
            out.extend(part.solution)
        else:
            name = (stub_names(part) or [""])[0]
            exercises.append(Exercise(source.path, len(out) + 1, part.ch, part.what, name))
            out.append(f"{part.indent}/* TODO(ch{part.ch}): {part.what} */{source.newline}")
            out.extend(part.stub)
    return "".join(out), exercises


def readme_section(n: int, exercises: list[Exercise], chapters: list[int], order: list[str] | None = None) -> str:
    """The README text that tells a student of chapter @p n where to start.

    With @p order (the stub names of the rubric's exercises, in the guide's
    order) the exercises are listed, numbered, in that order; else by file.
    """
    mine = [ex for ex in exercises if ex.ch == n]
    if order:
        mine.sort(key=lambda ex: order.index(ex.name) if ex.name in order else len(order))
    later = sorted({ex.ch for ex in exercises if ex.ch > n})
    solved = [c for c in chapters if c < n]
    lines = [
        README_BEGIN,
        f"## Your handout: chapter {n}",
        "",
        f"You are working on chapter {n}: start with [ch{n}/README.md](ch{n}/README.md).",
    ]
    if solved:
        names = ", ".join(f"ch{c}" for c in solved)
        lines.append(f"The chapters before it ({names}) come solved: your kernel stands on them.")
    if order and mine:
        lines += ["", f"The exercises are the `TODO(ch{n})` comments in these places; do them in this order, the "
                  f"guide's (its table says which tests each one turns green):", ""]  # fmt: skip
        lines += [f"{i}. `{ex.path}:{ex.line}`: {ex.what}" for i, ex in enumerate(mine, start=1)]
    elif mine:
        lines += ["", f"The exercises are the `TODO(ch{n})` comments in:", ""]
        lines += [f"- `{ex.path}:{ex.line}`: {ex.what}" for ex in mine]
    else:
        lines += ["", f"The exercises are the `TODO(ch{n})` comments in:", ""]
        lines.append("- (none: this chapter has no marked exercise)")
    lines += [
        "",
        f"Until you write them, each stub prints `TODO(ch{n}): <what>` when it is reached",
        'and the grader reports its tests as "not implemented: <what>", with the exercise',
        "to do, where its stub is, and a hint.",
        "",
        f"`make grade CH={n}` grades your work; `make run CH={n}` boots your kernel and",
        f"`make gdb CH={n}` debugs it.",
    ]
    if later:
        names = ", ".join(f"`TODO(ch{c})`" for c in later)
        lines += ["", f"The later chapters' stubs ({names}) are for later: leave them for now."]
    lines.append(README_END)
    return "\n".join(lines) + "\n"


def merge_readme(existing: str | None, section: str) -> str:
    """@p existing README text with the handout section replaced, or appended."""
    if existing is None:
        return "# mmlab\n\n" + section
    start = existing.find(README_BEGIN)
    end = existing.find(README_END, start if start >= 0 else 0)
    if start >= 0 and end >= 0:
        stop = end + len(README_END)
        if existing[stop : stop + 1] == "\n":
            stop += 1
        return existing[:start] + section + existing[stop:]
    if not existing.endswith("\n"):
        existing += "\n"
    return existing + "\n" + section
