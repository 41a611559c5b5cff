#!/usr/bin/env python3
"""Make, read and check mmfs disk images (chapter 5's file store) on the host.

  scripts/mmfs.py mkfs IMAGE [--size 32M] [--inodes 256] [--holes] [--chapter N] [NAME=PATH | NAME=@SPEC ...]
  scripts/mmfs.py ls IMAGE
  scripts/mmfs.py cat IMAGE NAME
  scripts/mmfs.py get IMAGE NAME OUT
  scripts/mmfs.py fsck IMAGE

NAME=PATH copies a host file; NAME=@SPEC makes its bytes from a content spec
(comma-separated runs COUNT * 'c', COUNT * 0xNN or COUNT * pattern, where the
pattern's byte at offset i is (i * 31 + (i >> 12)) & 0xff), for example
pattern.dat=@'13288*pattern' or synced.dat=@"8292*'a'". --chapter N starts
from the seed files, size and inode count of grader/rubric.toml's [chN.disk]
(what the grader attaches to every boot of chapter N; `make disk` uses it).
--holes leaves blocks of zeros unallocated. The format is documented in
grader/mmgrade/mmfs.py. Exit status: 0 ok, 1 fsck found damage or the tool
failed, 2 a bad command line.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "grader"))

from mmgrade import mmfs  # noqa: E402
from mmgrade.rubric import RubricError, load  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="mmfs.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    mkfs = commands.add_parser("mkfs", help="make a fresh image")
    mkfs.add_argument("image", type=Path)
    mkfs.add_argument("files", nargs="*", metavar="NAME=PATH|NAME=@SPEC", help="the files (after the options too)")
    mkfs.add_argument("--size", help="disk size (default 32M, or the rubric's)")
    mkfs.add_argument("--inodes", type=int, help="inodes, 0 and the root included (default 256, or the rubric's)")
    mkfs.add_argument("--holes", action="store_true", help="leave blocks of zeros unallocated")
    mkfs.add_argument("--chapter", type=int, metavar="N", help="start from [chN.disk] of the rubric")
    mkfs.add_argument("--rubric", type=Path, default=ROOT / "grader" / "rubric.toml", help="the rubric (default: %(default)s)")
    ls = commands.add_parser("ls", help="list the files")
    ls.add_argument("image", type=Path)
    cat = commands.add_parser("cat", help="write a file to stdout")
    cat.add_argument("image", type=Path)
    cat.add_argument("name")
    get = commands.add_parser("get", help="copy a file out to the host")
    get.add_argument("image", type=Path)
    get.add_argument("name")
    get.add_argument("out", type=Path)
    fsck = commands.add_parser("fsck", help="check an image")
    fsck.add_argument("image", type=Path)
    args, extra = parser.parse_known_args(argv)
    if extra and (args.command != "mkfs" or any(arg.startswith("-") for arg in extra)):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if extra:
        args.files += extra
    return args


def seed_files(args: argparse.Namespace) -> tuple[str | int, int, list[tuple[str, bytes]]]:
    """Size, inodes and (name, bytes) of the files mkfs is asked for."""
    size, inodes, files = mmfs.DEFAULT_SIZE, mmfs.DEFAULT_INODES, []
    if args.chapter is not None:
        chapter = load(args.rubric).get(args.chapter)
        if chapter is None or chapter.disk is None:
            raise mmfs.MmfsError(f"{args.rubric} has no [ch{args.chapter}.disk] section")
        size, inodes = chapter.disk.size, chapter.disk.inodes
        files = [(seed.name, seed.data()) for seed in chapter.disk.files]
    for arg in args.files:
        name, sep, source = arg.partition("=")
        if not sep:
            raise mmfs.MmfsError(f"{arg!r}: want NAME=PATH or NAME=@SPEC")
        if source.startswith("@"):
            data = mmfs.render(mmfs.parse_content(source[1:]))
        else:
            try:
                data = Path(source).read_bytes()
            except OSError as err:
                raise mmfs.MmfsError(f"cannot read {source}: {err.strerror}") from err
        files = [(n, d) for n, d in files if n != name] + [(name, data)]
    return args.size or size, args.inodes or inodes, files


def cmd_mkfs(args: argparse.Namespace) -> int:
    size, inodes, files = seed_files(args)
    image = mmfs.mkfs(args.image, size, inodes, files, args.holes)
    g = image.geometry
    print(f"mmfs: {args.image}: {g.nblocks} blocks of {mmfs.BLOCK_SIZE}, {g.ninodes} inodes, {len(files)} file(s)")
    return 0


def cmd_ls(args: argparse.Namespace) -> int:
    image = mmfs.Image.open(args.image)
    for entry in image.entries():
        inode = image.inode(entry.ino)
        blocks = sum(1 for _ in image.mapped_blocks(entry.ino)) if inode.type == mmfs.T_FILE else 0
        print(f"{entry.ino:5}  {inode.size:10}  {blocks:6} blocks  {entry.name}")
    return 0


def cmd_cat(args: argparse.Namespace) -> int:
    image = mmfs.Image.open(args.image)
    for chunk in image.chunks(args.name):
        sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()
    return 0


def cmd_get(args: argparse.Namespace) -> int:
    image = mmfs.Image.open(args.image)
    with open(args.out, "wb") as out:
        for chunk in image.chunks(args.name):
            out.write(chunk)
    return 0


def cmd_fsck(args: argparse.Namespace) -> int:
    image = mmfs.Image.open(args.image)
    report = image.fsck()
    for warning in report.warnings:
        print(f"fsck: {args.image}: warning: {warning}")
    for error in report.errors:
        print(f"fsck: {args.image}: {error}")
    if not report.clean:
        print(f"fsck: {args.image}: {len(report.errors)} problem(s)")
        return 1
    g = image.geometry
    used = sum(1 for b in range(g.nblocks) if image.used(b))
    files = len(image.entries())
    print(f"fsck: {args.image}: clean, {files} file(s), {used} of {g.nblocks} blocks in use")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the tool; return its exit status."""
    args = parse_args(argv)
    command = {"mkfs": cmd_mkfs, "ls": cmd_ls, "cat": cmd_cat, "get": cmd_get, "fsck": cmd_fsck}[args.command]
    try:
        return command(args)
    except (mmfs.MmfsError, RubricError) as err:
        print(f"mmfs: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"mmfs: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
