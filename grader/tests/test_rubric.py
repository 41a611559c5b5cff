"""The rubric loader: the real rubric is valid, and mistakes in one are caught."""

import pytest
from conftest import GRADER

from mmgrade.rubric import RubricError, load

VALID = """
[ch1]
title = "t"
configs = [{ name = "a", memory = "64M", smp = 1 }]
[[ch1.suite]]
name = "ch1.x"
hint = "suite hint"
allow_skip = true
tests = [{ name = "one", points = 60 }, { name = "two", points = 40, hint = "own", allow_skip = false }]
"""


def load_text(tmp_path, text):
    """Load rubric @p text from a file."""
    path = tmp_path / "rubric.toml"
    path.write_text(text)
    return load(path)


def test_the_real_rubric_is_valid():
    ch1 = load(GRADER / "rubric.toml")[1]
    assert ch1.max_points == 100
    assert {(c.memory, c.smp) for c in ch1.configs} >= {("64M", 1), ("256M", 2), ("2G", 4), ("64M", 4), ("2G", 1)}
    suites = {item.suite for item in ch1.items if item.suite.startswith("ch1.")}
    assert suites == {f"ch1.{s}" for s in ("memmap", "buddy", "contig", "at_range", "errors", "page", "pcp", "pressure", "smp")}
    # the given code's suites (page.h's references, the per-hart caches) must pass, for no points
    assert all(item.points == 0 for item in ch1.items if item.suite in ("ch1.page", "ch1.pcp"))
    assert [target.bench for target in ch1.targets] == ["ch1.order0", "ch1.metadata_permille"]
    # common/'s own suites must pass in ch1's boots, for no points
    assert all(item.points == 0 for item in ch1.items if item.suite.startswith("common."))
    assert ch1.ktest == "common.*,ch1.*" and ch1.bench == "ch1.*"


def test_visibility_defaults_to_visible_and_a_test_inherits_its_suites(tmp_path):
    assert [item.visibility for item in load_text(tmp_path, VALID)[1].items] == ["visible", "visible"]
    text = VALID.replace("allow_skip = true", 'allow_skip = true\nvisibility = "after_due_date"')
    text = text.replace("points = 40,", 'points = 40, visibility = "hidden",')
    text += '[[ch1.suite]]\nname = "ch1.y"\npoints = 0\nvisibility = "after_published"\n'
    one, two, whole = load_text(tmp_path, text)[1].items
    assert (one.visibility, two.visibility, whole.visibility) == ("after_due_date", "hidden", "after_published")


def test_defaults_and_inheritance(tmp_path):
    ch1 = load_text(tmp_path, VALID)[1]
    one, two = ch1.items
    assert (one.name, one.hint, one.allow_skip) == ("ch1.x.one", "suite hint", True)
    assert (two.hint, two.allow_skip) == ("own", False)
    assert ch1.timeout == 60 and ch1.ktest == "ch1.*" and ch1.configs[0].bootargs == ""


@pytest.mark.parametrize(
    "change, message",
    [
        (('title = "t"', 'title = "t"\ntimout = 5'), "unknown key"),
        (("tests = [", "points = 5\ntests = ["), "not both"),
        (('name = "ch1.x"', 'name = "ch2.x"'), "start with 'ch1.'"),
        (("smp = 1", "smp = 0"), "smp must be"),
        (("smp = 1", 'smp = "1"'), "wrong type"),
        (('name = "a"', 'name = "a b"'), "file name"),
        (('name = "two"', 'name = "one"'), "given twice"),
        (("points = 60", "points = -1"), "non-negative"),
        (("[ch1]", "[chapter1]"), "unexpected top-level key"),
        (("[[ch1.suite]]", "[[ch1.suite]"), "rubric.toml"),
        (("allow_skip = true", 'allow_skip = true\nvisibility = "secret"'), "visibility 'secret' is not one of"),
        (("points = 40,", 'points = 40, visibility = "Hidden",'), "visibility 'Hidden' is not one of"),
        (("allow_skip = true", "allow_skip = true\nvisibility = true"), "wrong type"),
    ],
)
def test_mistakes_are_reported(tmp_path, change, message):
    with pytest.raises(RubricError, match=message):
        load_text(tmp_path, VALID.replace(*change, 1))
