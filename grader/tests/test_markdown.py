"""grade.py --markdown: the report as GitHub Markdown, appended to a file (a CI job's step summary)."""

import re

from conftest import T, cut, ktap_log, passing_suites
from mmgrade import markdown

BIG = "256M/2"
UNESCAPED_PIPE_RE = re.compile(r"(?<!\\)\|")
NASTY = "a.c:7: expected `x | y` < *2* [see](http://x) # <b>"


def table_rows(text: str) -> list[str]:
    """The lines of the Markdown tables in @p text."""
    return [line for line in text.splitlines() if line.startswith("|")]


def nasty_run(lab):
    """ch1.alpha.two fails in big, Markdown in its diagnostic; small panics after ch1.alpha, backticks in its tail."""
    failing = passing_suites(2)
    failing["ch1.alpha"][1] = T("two", ok=False, diag=(NASTY,))
    panic = cut(ktap_log(passing_suites(1)), "    KTAP version 1\r\n    # Subtest: ch1.beta")
    panic += b"```` fence | \x1b[31m\r\npanic: BUG at a.c:9 (hart 0, pc f+0x4)\r\n"
    lab.qemu({"serial": panic, "exit": 2}, **{BIG: {"serial": ktap_log(failing), "exit": 1}})


def test_markdown_is_appended_with_a_table_per_chapter(lab, tmp_path):
    nasty_run(lab)
    summary = tmp_path / "summary.md"
    summary.write_text("# an earlier step's summary\n")
    graded = lab.grade("--markdown", str(summary))
    assert graded.code == 1
    text = summary.read_text()
    assert text.startswith("# an earlier step's summary\n## mmlab grade: 30/100 points\n")
    assert "### ch1: Test chapter: 30/100 points" in text
    assert text.rstrip().endswith("`grade: 1 passed, 3 failed`")
    rows = table_rows(text)
    assert rows[:2] == ["| item | points | status | configurations |", "|---|---:|---|---|"]
    assert rows[2] == r"| ch1\.alpha\.one | 30/30 | ✅ passed |  |"
    assert rows[3] == r"| ch1\.alpha\.two | 0/30 | ❌ failed | big |"
    assert rows[4] == r"| ch1\.beta | 0/20 | ❌ panic | small |"
    assert rows[5] == r"| ch1\.smp\.concurrent | 0/20 | ❌ panic | small |"
    # Every row has its five cell borders and no more, whatever the output held.
    assert all(len(UNESCAPED_PIPE_RE.findall(row)) == 5 for row in rows)


def test_a_failed_item_is_quoted_with_its_hint(lab, tmp_path):
    nasty_run(lab)
    lab.grade("--markdown", str(tmp_path / "summary.md"))
    lines = (tmp_path / "summary.md").read_text().splitlines()
    at = lines.index(r"**ch1\.alpha\.two**: failed \[big\]")
    assert lines[at + 2 : at + 5] == ["```text", NASTY, "```"]
    assert lines[at + 6] == r"- hint\: two hint"


def test_a_failed_boot_shows_its_log_command_and_tail_fenced(lab, tmp_path):
    nasty_run(lab)
    lab.grade("--markdown", str(tmp_path / "summary.md"))
    text = (tmp_path / "summary.md").read_text()
    assert r"**boot small failed**: panic\: BUG at a\.c\:9 \(hart 0\, pc f\+0x4\)" in text
    assert "- log: `build/grade/ch1-small.log`" in text
    assert re.search(r"- command: `\S*fake-qemu -machine virt .* -append 'ktest=ch1\.\*'`", text)
    # The tail holds a run of 4 backticks: the fence is 5 long, and the escape byte is replaced.
    tail = text[text.index("Last lines:") :]
    assert "`````text\n" in tail and "\n```` fence | \ufffd[31m\n" in tail
    assert tail.split("`````text\n", 1)[1].split("\n`````\n", 1)[0].endswith("panic: BUG at a.c:9 (hart 0, pc f+0x4)")


def test_a_build_failure(lab, tmp_path):
    lab.make_mode = "fail"
    lab.passing()
    lab.grade("--markdown", str(tmp_path / "summary.md"))
    text = (tmp_path / "summary.md").read_text()
    assert "**build failed**: " in text and "- log: `build/grade/ch1-build.log`" in text
    assert "```text\n" in text and "ch1/src/buddy.c:42:5: error: expected ';' before '}' token" in text
    assert all("❌ build failed" in row for row in table_rows(text)[2:])


def test_a_full_score(lab, tmp_path):
    lab.passing()
    assert lab.grade("--markdown", str(tmp_path / "summary.md")).code == 0
    text = (tmp_path / "summary.md").read_text()
    assert text.startswith("## mmlab grade: 100/100 points\n")
    assert "Configurations: small, big" in text
    assert "**" not in text and "```" not in text


def test_escape_code_and_fence():
    assert markdown.escape("a|b *c* <d>\n_e_") == r"a\|b \*c\* \<d\> \_e\_"
    assert markdown.escape("bell\x07") == "bell\ufffd"
    assert markdown.code("x `y` z") == "``x `y` z``"
    assert markdown.code("`") == "`` ` ``"
    assert markdown.fenced(["```", "ok"]) == ["````text", "```", "ok", "````"]
    assert markdown.fenced(["plain"]) == ["```text", "plain", "```"]
