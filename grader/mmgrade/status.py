"""The statuses an item can have, as the report prints them.

"not implemented" and "skipped" are followed by ``: <what>`` / ``: <reason>``.
"""

PASSED = "passed"
FAILED = "failed"
NOT_IMPLEMENTED = "not implemented"
SKIPPED = "skipped"
DID_NOT_RUN = "did not run"
TIMEOUT = "timeout"
PANIC = "panic"
QEMU_FAILED = "qemu failed to start"
BUILD_FAILED = "build failed"
