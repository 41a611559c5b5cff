"""Reading the LAB BEGIN / LAB STUB / LAB END markers of one source file.

The format is at the top of scripts/handout.py. parse_source() splits a
file into plain lines and Regions (one per exercise); every malformed
marker is a `file:line: message` problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Files whose markers are read and transformed.
SCANNED_SUFFIXES = (".c", ".h", ".S")
# Top-level directories that are never stubbed: a marker there is an error.
NEVER_STUBBED_TOP = ("common", "grader")
# Directory names, anywhere in a path, that hold tests: never stubbed either.
NEVER_STUBBED_DIRS = ("tests", "hosttest")

CHAPTER_DIR_RE = re.compile(r"^ch([1-9][0-9]*)$")
TOKEN_RE = re.compile(r"\bLAB[ \t]+(BEGIN|STUB|END)\b")
BEGIN_RE = re.compile(
    r"^(?P<indent>[ \t]*)/\*[ \t]*LAB[ \t]+BEGIN[ \t]+ch(?P<ch>[0-9]+)(?:[ \t]+(?P<what>.*?))?[ \t]*\*/[ \t]*$"
)
STUB_RE = re.compile(r"^[ \t]*/\*[ \t]*LAB[ \t]+STUB[ \t]*$")
END_RE = re.compile(r"^[ \t]*LAB[ \t]+END[ \t]*\*/[ \t]*$")
TODO_CALL_RE = re.compile(r"\bTODO\s*\(\s*\"ch([0-9]+)\"")
TODO_TEXT_RE = re.compile(r'\bTODO\s*\(\s*"ch([0-9]+)"\s*,\s*"([^"\n]*)"')


@dataclass
class Region:
    """One exercise: its chapter, what to do, and its lines (1-based numbers)."""

    path: str
    ch: int
    what: str
    indent: str
    begin: int
    stub_at: int
    end: int
    solution: list[str]
    stub: list[str]

    @property
    def where(self) -> str:
        """``path:line`` of the BEGIN marker."""
        return f"{self.path}:{self.begin}"


@dataclass
class SourceFile:
    """A scanned file split into plain text and regions, in order."""

    path: str
    parts: list  # str (a line, with its newline) or Region
    newline: str = "\n"

    @property
    def regions(self) -> list[Region]:
        """The file's regions, in order."""
        return [part for part in self.parts if isinstance(part, Region)]


def lex_states(line: str, in_comment: bool) -> tuple[list[str], bool]:
    """Say, for every character of @p line, where it is: code, comment or literal.

    Returns one state per character ('code', 'block', 'line', 'literal') and
    whether a /* */ comment is still open at the end of the line. A quote that
    does not close on the same line (an apostrophe in an assembler comment,
    say) is taken as plain code, so one odd line cannot derail the rest.
    """
    states = ["code"] * len(line)
    i = 0
    n = len(line)
    while i < n:
        if in_comment:
            close = line.find("*/", i)
            stop = n if close < 0 else close + 2
            for j in range(i, stop):
                states[j] = "block"
            if close < 0:
                return states, True
            in_comment = False
            i = stop
            continue
        ch = line[i]
        two = line[i : i + 2]
        if two == "/*":
            states[i] = states[i + 1] = "block"
            in_comment = True
            i += 2
            continue
        if two == "//":
            for j in range(i, n):
                states[j] = "line"
            return states, False
        if ch in "\"'":
            j = i + 1
            while j < n and line[j] != ch:
                j += 2 if line[j] == "\\" else 1
            if j < n and (ch == '"' or j - i <= 8):
                for k in range(i, j + 1):
                    states[k] = "literal"
                i = j + 1
                continue
        i += 1
    return states, in_comment


def _location_problem(path: str, ch: int, chapters: set[int]) -> str | None:
    """Why a region of chapter @p ch may not sit in @p path, or None if it may."""
    parts = path.split("/")
    if parts[0] in NEVER_STUBBED_TOP:
        return f"{parts[0]}/ is never stubbed: it may hold no LAB markers"
    if any(part in NEVER_STUBBED_DIRS for part in parts[:-1]):
        return "tests are never stubbed: a test file may hold no LAB markers"
    if ch not in chapters:
        have = ", ".join(f"ch{c}" for c in sorted(chapters)) or "none"
        return f"chapter ch{ch} does not exist (chapters here: {have})"
    match = CHAPTER_DIR_RE.match(parts[0])
    if match and int(match[1]) != ch:
        return (
            f"a ch{ch} exercise in {parts[0]}/: a chapter's exercises belong in its own directory "
            f"(a chapter does not edit another's files)"
        )
    return None


def parse_source(path: str, text: str, chapters: set[int]) -> tuple[SourceFile, list[str], list[str]]:
    """Split @p text (the file at @p path) into lines and regions.

    Returns the file, its problems (`path:line: message`, parsing stops at the
    first) and warnings.
    """
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    parts: list = []
    problems: list[str] = []
    warnings: list[str] = []
    in_comment = False
    region: Region | None = None
    mode = "out"  # out, solution, stub

    def problem(ln: int, message: str) -> tuple[SourceFile, list[str], list[str]]:
        problems.append(f"{path}:{ln}: {message}")
        return SourceFile(path, parts, newline), problems, warnings

    for ln, raw in enumerate(lines, 1):
        body = raw.rstrip("\r\n")
        start_in_comment = in_comment
        states, in_comment = lex_states(body, in_comment)
        tokens = [(m[1], m.start(), states[m.start()]) for m in TOKEN_RE.finditer(body)]
        if len(tokens) > 1:
            return problem(ln, "several LAB markers on one line: each marker is a line of its own")
        token = tokens[0] if tokens else None
        kind = token[0] if token else None
        in_block = token is not None and token[2] == "block"

        if mode == "out":
            if kind is None:
                parts.append(raw)
            elif kind == "BEGIN":
                if not in_block:
                    return problem(ln, "LAB BEGIN outside a /* */ comment: write /* LAB BEGIN chN <what to do> */")
                match = BEGIN_RE.match(body)
                if start_in_comment or not match:
                    return problem(
                        ln,
                        "malformed LAB BEGIN: the line must be exactly one comment "
                        "/* LAB BEGIN chN <what to do> */",
                    )
                if not match["what"]:
                    return problem(ln, f"LAB BEGIN ch{match['ch']} says nothing to do: add <what to do> after it")
                ch = int(match["ch"])
                where = _location_problem(path, ch, chapters)
                if where:
                    return problem(ln, where)
                region = Region(path, ch, match["what"], match["indent"], ln, 0, 0, [], [])
                mode = "solution"
            elif kind == "STUB":
                return problem(ln, "LAB STUB without a LAB BEGIN before it")
            else:
                return problem(ln, "LAB END without a LAB BEGIN and LAB STUB before it")
        elif mode == "solution":
            assert region is not None
            if kind is None:
                region.solution.append(raw)
            elif kind == "BEGIN":
                return problem(ln, f"nested LAB BEGIN: the region opened at {region.where} has no LAB STUB yet")
            elif kind == "END":
                return problem(ln, f"LAB END before LAB STUB (region opened at {region.where})")
            else:
                if not in_block:
                    return problem(ln, "LAB STUB outside a /* */ comment: the line must be `/* LAB STUB`")
                if start_in_comment or not STUB_RE.match(body):
                    return problem(
                        ln,
                        "malformed LAB STUB: the line must start with `/* LAB STUB` and hold nothing "
                        "else (the stub follows on the next lines; LAB END */ closes it)",
                    )
                region.stub_at = ln
                mode = "stub"
        else:  # stub
            assert region is not None
            if kind == "BEGIN":
                return problem(ln, f"nested LAB BEGIN inside the stub of the region opened at {region.where}")
            if kind == "STUB":
                return problem(ln, f"a second LAB STUB in the region opened at {region.where}")
            if kind == "END":
                if not END_RE.match(body) or not start_in_comment:
                    return problem(
                        ln,
                        "malformed LAB END: the line must hold only `LAB END */` "
                        f"(region opened at {region.where})",
                    )
                region.end = ln
                problem_text = _stub_problem(region)
                if problem_text:
                    return problem(region.stub_at, problem_text)
                if not any(TODO_CALL_RE.search(line) for line in region.stub):
                    warnings.append(
                        f"{region.where}: the stub of this ch{region.ch} region does not call "
                        f'TODO("ch{region.ch}", ...): nothing will say it is not implemented'
                    )
                parts.append(region)
                region = None
                mode = "out"
            else:
                if "/*" in body or "*/" in body:
                    return problem(
                        ln,
                        "a stub line cannot hold /* or */ (the stub sits inside a comment in the "
                        f"reference tree; use // comments) (region opened at {region.where})",
                    )
                region.stub.append(raw)
    if mode != "out":
        assert region is not None
        missing = "LAB STUB and LAB END" if mode == "solution" else "LAB END"
        return problem(region.begin, f"LAB BEGIN ch{region.ch} without {missing} (the file ends at line {len(lines)})")
    return SourceFile(path, parts, newline), problems, warnings


def _stub_problem(region: Region) -> str | None:
    """A stub's TODO() must name the region's own chapter."""
    for line in region.stub:
        for match in TODO_CALL_RE.finditer(line):
            if int(match[1]) != region.ch:
                return (
                    f'the stub of a ch{region.ch} region calls TODO("ch{match[1]}", ...): '
                    f'write TODO("ch{region.ch}", ...)'
                )
    return None


def stub_names(region: Region) -> list[str]:
    """The names of the stubs a region's stub calls: TODO("chN", "<name>: ...") -> <name>."""
    names = [match[2].split(":", 1)[0].strip() for line in region.stub for match in TODO_TEXT_RE.finditer(line)]
    return list(dict.fromkeys(names))
