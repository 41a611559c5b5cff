"""Tests of the LAB marker parser (scripts/handout/markers.py): malformed markers are errors with file:line."""

import textwrap

import pytest

from handout_fixtures import make_tree
from handout.errors import MarkerError
from handout.tree import read_tree


BAD = {
    "begin_without_stub": ("\t/* LAB BEGIN ch1 do it */\n\tx();\n", 1, "without LAB STUB and LAB END"),
    "begin_without_end": ("/* LAB BEGIN ch1 do it */\nx();\n/* LAB STUB\ny();\n", 1, "without LAB END"),
    "nested": ("/* LAB BEGIN ch1 a */\n/* LAB BEGIN ch1 b */\n", 2, "nested LAB BEGIN"),
    "nested_in_stub": ("/* LAB BEGIN ch1 a */\n/* LAB STUB\n/* LAB BEGIN ch1 b */\nLAB END */\n", 3, "nested"),
    "stub_alone": ("int x;\n/* LAB STUB\nLAB END */\n", 2, "LAB STUB without a LAB BEGIN"),
    "end_alone": ("int x;\n/* LAB END */\n", 2, "LAB END without"),
    "end_before_stub": ("/* LAB BEGIN ch1 a */\nx();\nLAB END */\n", 3, "LAB END before LAB STUB"),
    "two_stubs": ("/* LAB BEGIN ch1 a */\n/* LAB STUB\n/* LAB STUB\nLAB END */\n", 3, "a second LAB STUB"),
    "no_such_chapter": ("/* LAB BEGIN ch7 a */\n/* LAB STUB\nLAB END */\n", 1, "chapter ch7 does not exist"),
    "no_what": ("/* LAB BEGIN ch1 */\n/* LAB STUB\nLAB END */\n", 1, "says nothing to do"),
    "no_chapter": ("/* LAB BEGIN split it */\n/* LAB STUB\nLAB END */\n", 1, "malformed LAB BEGIN"),
    "in_line_comment": ("// LAB BEGIN ch1 a\n", 1, "outside a /* */ comment"),
    "in_string": ('const char *s = "LAB BEGIN ch1 a";\n', 1, "outside a /* */ comment"),
    "in_code": ("#define LAB_BEGIN 1\nint LAB BEGIN;\n", 2, "outside a /* */ comment"),
    "code_before_begin": ("x(); /* LAB BEGIN ch1 a */\n", 1, "malformed LAB BEGIN"),
    "multiline_begin": ("/* LAB BEGIN ch1 a\n   more */\n", 1, "malformed LAB BEGIN"),
    "begin_in_doc_comment": ("/**\n * LAB BEGIN ch1 a\n */\n", 2, "malformed LAB BEGIN"),
    "stub_with_text": ("/* LAB BEGIN ch1 a */\n/* LAB STUB return 0;\nLAB END */\n", 2, "malformed LAB STUB"),
    "stub_closed": ("/* LAB BEGIN ch1 a */\n/* LAB STUB */\nLAB END */\n", 2, "malformed LAB STUB"),
    "stub_in_code": ("/* LAB BEGIN ch1 a */\nLAB STUB\n", 2, "outside a /* */ comment"),
    "stub_closes_comment": ("/* LAB BEGIN ch1 a */\n/* LAB STUB\nx(); */\nLAB END */\n", 3, "cannot hold /* or */"),
    "end_with_code": ("/* LAB BEGIN ch1 a */\n/* LAB STUB\nreturn 0; LAB END */\n", 3, "malformed LAB END"),
    "end_not_closing": ("/* LAB BEGIN ch1 a */\n/* LAB STUB\nLAB END\n*/\n", 3, "malformed LAB END"),
    "two_on_a_line": ("/* LAB BEGIN ch1 a */ /* LAB STUB\nLAB END */\n", 1, "several LAB markers"),
    "wrong_todo_chapter": ('/* LAB BEGIN ch1 a */\n/* LAB STUB\nTODO("ch2", "x");\nLAB END */\n', 2, 'TODO("ch2"'),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_malformed_markers_are_errors_with_file_and_line(tmp_path, name):
    text, line, message = BAD[name]
    root = make_tree(tmp_path / "ref", {"ch1/src/bad.c": "int before;\n" + text})
    with pytest.raises(MarkerError) as info:
        read_tree(root)
    problems = info.value.problems
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"ch1/src/bad.c:{line + 1}: "), problems
    assert message in problems[0]


@pytest.mark.parametrize(
    "rel, message",
    [
        ("common/lib/oops.c", "common/ is never stubbed"),
        ("ch1/tests/oops_test.c", "tests are never stubbed"),
        ("ch1/hosttest/test_oops.c", "tests are never stubbed"),
        ("grader/helper.c", "grader/ is never stubbed"),
        ("ch2/src/oops.c", "a ch1 exercise in ch2/"),
    ],
)
def test_markers_where_none_may_be(tmp_path, rel, message):
    text = '/* LAB BEGIN ch1 a */\nx();\n/* LAB STUB\nTODO("ch1", "a");\nLAB END */\n'
    root = make_tree(tmp_path / "ref", {rel: text})
    with pytest.raises(MarkerError) as info:
        read_tree(root)
    assert info.value.problems == [f"{rel}:1: {info.value.problems[0].split(': ', 1)[1]}"]
    assert message in info.value.problems[0]


def test_every_bad_file_is_reported(tmp_path):
    root = make_tree(
        tmp_path / "ref",
        {"ch1/src/a.c": "/* LAB STUB\nLAB END */\n", "ch2/src/b.h": "\n\n/* LAB BEGIN ch2 x */\n"},
    )
    with pytest.raises(MarkerError) as info:
        read_tree(root)
    assert [p.split(": ")[0] for p in info.value.problems] == ["ch1/src/a.c:1", "ch2/src/b.h:3"]


def test_literals_and_comments_do_not_confuse_the_lexer(tmp_path):
    tricky = textwrap.dedent("""\
        char q = '"';
        const char *s = "/* not a comment";
        char c = '\\'';
        /* a comment with "quotes */
        /* LAB BEGIN ch1 tricky */
        x = '/';
        /* LAB STUB
        TODO("ch1", "tricky");
        LAB END */
        """)
    root = make_tree(tmp_path / "ref", {"ch1/src/tricky.c": tricky})
    tree = read_tree(root)
    assert [r.what for r in tree.regions if r.path == "ch1/src/tricky.c"] == ["tricky"]


def test_a_stub_without_todo_is_a_warning(tmp_path):
    root = make_tree(tmp_path / "ref")
    tree = read_tree(root)
    assert len(tree.warnings) == 1
    assert tree.warnings[0].startswith("ch3/src/paging.S:5: ")
    assert 'TODO("ch3"' in tree.warnings[0]
