"""The disk image of a chapter whose rubric has a [chN.disk]: made fresh for every boot, checked after it.

Before each boot the grader writes build/grade/chN-<config>.img (mmfs, with
the rubric's seed files) and attaches it as a virtio-blk device; after the
boot each [[chN.disk_check]] item reads a file out of that image on the host
(mmfs.py) and compares it with the bytes the rubric expects, after an fsck of
the whole image.
"""

from pathlib import Path

from . import mmfs
from .rubric import Disk, DiskCheck

FSCK_LINES = 2  # fsck messages in a report (the item's details are short)


def image_path(log_dir: Path, chapter: str, config: str) -> Path:
    """Where the image of one boot goes: build/grade/<chapter>-<config>.img."""
    return log_dir / f"{chapter}-{config}.img"


def make(disk: Disk, path: Path) -> Path:
    """Write a fresh image of @p disk at @p path (replacing the last boot's); MmfsError or OSError if it cannot."""
    mmfs.mkfs(path, disk.size, disk.inodes, [(seed.name, seed.data()) for seed in disk.files])
    return path


def qemu_args(path: Path) -> tuple[str, ...]:
    """QEMU's options attaching @p path as a raw virtio-blk disk (commas in the path doubled, as QEMU wants)."""
    escaped = str(path).replace(",", ",,")
    return ("-drive", f"file={escaped},if=none,format=raw,id=d0", "-device", "virtio-blk-device,drive=d0")


def check(path: Path, check: DiskCheck) -> list[str]:
    """What is wrong with @p check's file in the image at @p path after a boot; [] if it is as expected.

    An image fsck finds damaged fails the check with fsck's messages; then a
    missing file; then a wrong size and the first byte that differs.
    """
    try:
        image = mmfs.Image.open(path)
    except mmfs.MmfsError as err:
        return [f"the disk image cannot be read: {err}"]
    report = image.fsck()
    if not report.clean:
        lines = [f"fsck of the disk image: {error}" for error in report.errors[:FSCK_LINES]]
        if len(report.errors) > FSCK_LINES:
            lines.append(f"... and {len(report.errors) - FSCK_LINES} more (scripts/mmfs.py fsck {path})")
        return lines
    name = check.file.lstrip("/")
    if image.lookup(name) is None:
        return [f"{name} is not on the disk (files: {', '.join(e.name for e in image.entries()) or 'none'})"]
    return compare(name, image.read(name), mmfs.parse_content(check.expect))


def compare(name: str, found: bytes, runs: list[mmfs.Run]) -> list[str]:
    """How @p found differs from the bytes of @p runs: the size, then the first differing offset."""
    expected = mmfs.render(runs)
    problems = []
    if len(found) != len(expected):
        problems.append(f"{name}: size {len(found)}, expected {len(expected)}")
    common = min(len(found), len(expected))
    differ = [offset for offset in range(common) if found[offset] != expected[offset]]
    if differ:
        first = differ[0]
        number, run, start = mmfs.run_at(runs, first)
        problems.append(
            f"{name}: {len(differ)} byte(s) differ, the first at offset {first}: expected "
            f"{mmfs.byte_text(expected[first])}, found {mmfs.byte_text(found[first])} "
            f"(run {number} of the expectation, {run.text} at [{start}, {start + run.count}))"
        )
    return problems
