"""The statuses an item (or a boot) can have, and how the report prints them.

A status is a Status member; what it prints is its label. Two statuses carry
a reason, kept apart in the result's ``reason`` field and printed after the
label: "not implemented: <what the stub said>", "skipped: <why>".
"""

import enum


class Status(enum.Enum):
    """How an item (or a boot) ended; the value is the label the report prints."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_IMPLEMENTED = "not implemented"
    SKIPPED = "skipped"
    DID_NOT_RUN = "did not run"
    TIMEOUT = "timeout"
    PANIC = "panic"
    QEMU_FAILED = "qemu failed to start"
    BUILD_FAILED = "build failed"

    @property
    def label(self) -> str:
        """What the report prints: ``not implemented``, ``qemu failed to start``, ..."""
        return self.value

    @classmethod
    def from_label(cls, label: str) -> "Status":
        """The status that prints as @p label; ValueError if none does."""
        return cls(label)

    def line(self, reason: str | None = None) -> str:
        """The label, then ``: <reason>`` when there is one (``skipped: needs 2 harts``)."""
        return f"{self.label}: {reason}" if reason is not None else self.label

    def __str__(self) -> str:
        return self.label
