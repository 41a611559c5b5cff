"""The JUnit XML of --junit, checked with a real validator (xmllint, an XML Schema), and its fields."""

import shutil
import socket
import subprocess
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import DATA, T, cut, ktap_log, passing_suites
from mmgrade import export
from mmgrade.qemu import Boot
from mmgrade.rubric import load
from mmgrade.score import score_chapter

SMALL, BIG = "64M/1", "256M/2"
SCHEMA = DATA / "junit.xsd"


def xmllint(path: Path) -> subprocess.CompletedProcess:
    """Validate @p path against data/junit.xsd with xmllint; fail (not skip) when xmllint is missing."""
    if shutil.which("xmllint") is None:
        pytest.fail("xmllint is missing: run scripts/setup.sh --test (as root) to install libxml2-utils")
    return subprocess.run(
        ["xmllint", "--noout", "--schema", str(SCHEMA), str(path)], capture_output=True, text=True, check=False
    )


def cases(path: Path) -> dict[str, ET.Element]:
    """The <testcase>s of a JUnit file, by name."""
    return {case.get("name"): case for case in ET.parse(path).getroot().iter("testcase")}


def mixed_run(lab, junit: Path):
    """Grade a run with a failure (and garbage in it) in big and ch1.smp skipped in small: write @p junit."""
    failing = passing_suites(2)
    failing["ch1.alpha"][1] = T("two", ok=False, diag=("a.c:42: expected 1 | 2, got \x01 3", "second line"))
    lab.qemu({"serial": ktap_log(passing_suites(1))}, **{BIG: {"serial": ktap_log(failing), "exit": 1}})
    return lab.grade("--junit", str(junit))


def test_the_schema_accepts_the_report_and_rejects_a_broken_one(lab, tmp_path):
    junit = tmp_path / "junit.xml"
    assert mixed_run(lab, junit).code == 1
    checked = xmllint(junit)
    assert checked.returncode == 0, checked.stderr
    # The validator is real: a suite without its host, or a case without its time, is refused.
    for attribute, element in (("hostname", "testsuite"), ("time", "testcase")):
        tree = ET.parse(junit)
        del tree.getroot().find(f".//{element}").attrib[attribute]
        broken = tmp_path / f"no-{attribute}.xml"
        tree.write(broken)
        refused = xmllint(broken)
        assert refused.returncode != 0 and attribute in refused.stderr


def test_a_failure_says_why_and_where(lab, tmp_path):
    mixed_run(lab, tmp_path / "junit.xml")
    failure = cases(tmp_path / "junit.xml")["ch1.alpha.two"].find("failure")
    assert failure.get("message") == "failed: a.c:42: expected 1 | 2, got \ufffd 3 [big]"
    assert failure.get("type") == "failed"
    assert failure.text.splitlines()[:3] == [
        "failed (0/30 points)",
        "configurations: big",
        "a.c:42: expected 1 | 2, got \ufffd 3",
    ]


def test_a_timeout_names_the_running_test(lab, tmp_path):
    lab.qemu({"serial": cut(ktap_log(passing_suites(1)), "    ok 2 two"), "hang": True})
    lab.grade("--only", "small", "--timeout-scale", "0.2", "--junit", str(tmp_path / "junit.xml"))
    message = cases(tmp_path / "junit.xml")["ch1.alpha.two"].find("failure").get("message")
    assert message.startswith("timeout: no power-off within 1 s, while running ch1.alpha")
    assert message.endswith("[small]")


def test_an_item_skipped_everywhere_is_skipped_not_failed(lab, tmp_path):
    lab.qemu({"serial": ktap_log(passing_suites(1))})
    lab.grade("--junit", str(tmp_path / "junit.xml"))
    root = ET.parse(tmp_path / "junit.xml").getroot()
    concurrent = cases(tmp_path / "junit.xml")["ch1.smp.concurrent"]
    assert concurrent.find("failure") is None
    assert concurrent.find("skipped").get("message") == "needs 2 harts"
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "0", "1")
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "0", "0")


def test_skipped_where_it_could_not_run_but_passed_elsewhere_is_a_pass(lab, tmp_path):
    lab.passing()
    lab.grade("--junit", str(tmp_path / "junit.xml"))
    concurrent = cases(tmp_path / "junit.xml")["ch1.smp.concurrent"]
    assert list(concurrent) == []


def test_a_case_takes_its_chapters_longest_boot(lab, tmp_path):
    lab.qemu({"serial": ktap_log(passing_suites(1))}, **{BIG: {"serial": ktap_log(passing_suites(2)), "sleep": 1}})
    lab.grade("--jobs", "2", "--junit", str(tmp_path / "junit.xml"))
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    times = {float(case.get("time")) for case in suite.iter("testcase")}
    assert len(times) == 1
    assert 1.0 <= times.pop() <= float(suite.get("time"))


def test_a_suite_says_where_and_when(lab, tmp_path):
    before = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)
    lab.passing()
    lab.grade("--junit", str(tmp_path / "junit.xml"))
    after = datetime.now(timezone.utc).replace(tzinfo=None)
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite.get("hostname") == (socket.gethostname() or "localhost")
    assert before <= datetime.fromisoformat(suite.get("timestamp")) <= after


def test_timestamp_is_when_grading_began_in_utc():
    chapter = load(DATA / "rubric.toml")[1]
    boot = Boot("small", ["qemu"], Path("small.log"), 5, elapsed=2.5)
    result = score_chapter(chapter, [boot])
    now = datetime(2026, 3, 1, 12, 0, 30, 900000, tzinfo=timezone.utc)
    root = export.junit([result], 90.5, now=now, hostname="grader-7").getroot()
    suite = root.find("testsuite")
    assert (suite.get("timestamp"), suite.get("hostname")) == ("2026-03-01T11:59:00", "grader-7")
    assert {case.get("time") for case in suite.iter("testcase")} == {"2.500"}
    # A zone-aware time elsewhere is turned to UTC first.
    local = datetime.fromisoformat("2026-03-01T14:00:30.900+02:00")
    assert export.junit([result], 90.5, now=local).getroot().find("testsuite").get("timestamp") == "2026-03-01T11:59:00"


def test_a_build_failure_has_no_boot_time(lab, tmp_path):
    lab.make_mode = "fail"
    lab.passing()
    lab.grade("--junit", str(tmp_path / "junit.xml"))
    for case in cases(tmp_path / "junit.xml").values():
        assert case.get("time") == "0.000"
        assert case.find("failure").get("message").startswith("build failed: ")
    assert xmllint(tmp_path / "junit.xml").returncode == 0
