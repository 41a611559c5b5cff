"""The Status enum (mmgrade/status.py): labels, reasons, and what each status scores."""

import pytest

from mmgrade import export, report, score
from mmgrade.rubric import Item
from mmgrade.status import Status

LABELS = {
    Status.PASSED: "passed",
    Status.FAILED: "failed",
    Status.NOT_IMPLEMENTED: "not implemented",
    Status.SKIPPED: "skipped",
    Status.DID_NOT_RUN: "did not run",
    Status.TIMEOUT: "timeout",
    Status.PANIC: "panic",
    Status.QEMU_FAILED: "qemu failed to start",
    Status.BUILD_FAILED: "build failed",
}


def item(points: float = 10, allow_skip: bool = False) -> Item:
    return Item("ch1.s", "t", points, "the hint", allow_skip)


def test_every_status_has_its_printed_label():
    assert set(LABELS) == set(Status)
    for status, label in LABELS.items():
        assert status.label == label
        assert str(status) == label and f"{status}" == label


@pytest.mark.parametrize("status", list(Status))
def test_label_round_trip(status):
    assert Status.from_label(status.label) is status


def test_an_unknown_label_is_an_error():
    with pytest.raises(ValueError):
        Status.from_label("skipped: needs 2 harts")  # the reason is not part of the label


def test_the_reason_is_printed_after_the_label():
    assert Status.SKIPPED.line("needs 2 harts") == "skipped: needs 2 harts"
    assert Status.NOT_IMPLEMENTED.line("unmap: free the frames") == "not implemented: unmap: free the frames"
    assert Status.FAILED.line() == "failed"
    assert Status.FAILED.line(None) == "failed"


def test_report_and_export_print_label_then_reason():
    result = score.ItemResult(item(), Status.NOT_IMPLEMENTED, 0, reason="unmap: free the frames")
    assert result.text == "not implemented: unmap: free the frames"
    row = report.item_lines(result, 6, report.Painter(False))[0]
    assert row.endswith("0/10  not implemented: unmap: free the frames")
    assert export.item_text(result).splitlines()[0] == "not implemented: unmap: free the frames (0/10 points)"
    colored = report.Painter(True).status(Status.SKIPPED, "why")
    assert colored == "\033[33mskipped: why\033[0m"


def test_configurations_that_differ_by_reason_are_named():
    result = score.ItemResult(
        item(), Status.SKIPPED, 0, [("a", Status.SKIPPED, "one"), ("b", Status.SKIPPED, "two")], boots=2, reason="one"
    )
    assert report.config_list(result) == "a, b: skipped: two"
    same = score.ItemResult(
        item(), Status.SKIPPED, 0, [("a", Status.SKIPPED, "one"), ("b", Status.SKIPPED, "one")], boots=2, reason="one"
    )
    assert report.config_list(same) == "every configuration"


@pytest.mark.parametrize("status", list(Status))
def test_score_of_each_status(status):
    """Only a pass earns the item's points, in one configuration or in two."""
    reason = "why" if status in (Status.SKIPPED, Status.NOT_IMPLEMENTED) else None
    outcome = score.Outcome(status, ("detail",), reason=reason)
    alone = score.combine(item(), {"a": outcome})
    assert alone.earned == (10 if status is Status.PASSED else 0)
    assert alone.passed == (status is Status.PASSED)
    with_a_pass = score.combine(item(), {"a": score.Outcome(Status.PASSED), "b": outcome})
    earns = status in (Status.PASSED, Status.SKIPPED)  # a skip does not count against a pass elsewhere
    assert with_a_pass.earned == (10 if earns else 0)
    if not earns:
        assert with_a_pass.status is status and with_a_pass.reason == reason
        assert with_a_pass.configs == [("b", status, reason)]


def test_a_skip_everywhere_earns_nothing_unless_allowed():
    skipped = score.combine(item(), {"a": score.Outcome(Status.SKIPPED, reason="needs 2 harts")})
    assert (skipped.status, skipped.reason, skipped.earned) == (Status.SKIPPED, "needs 2 harts", 0)
    assert skipped.text == "skipped: needs 2 harts"


def test_allow_skip_turns_a_skip_into_a_pass(tmp_path):
    from mmgrade import ktap, qemu

    boot = qemu.Boot("a", ["qemu"], tmp_path / "log", 1, exit_code=0)
    boot.ktap = ktap.parse("KTAP version 1\n1..1\n    # Subtest: ch1.s\n    1..1\n    ok 1 t # SKIP needs 2 harts\nok 1 ch1.s\n")
    assert score.item_outcome(boot, item()) == score.Outcome(Status.SKIPPED, reason="needs 2 harts")
    assert score.item_outcome(boot, item(allow_skip=True)) == score.Outcome(Status.PASSED)
