"""The host tool for chapter 5's disk (grader/mmgrade/mmfs.py, scripts/mmfs.py): format, round trips, fsck."""

import importlib.util
import struct

import pytest
from conftest import GRADER

from mmgrade import mmfs
from mmgrade.mmfs import BLOCK_SIZE, NDIRECT, NINDIRECT, Image, MmfsError

spec = importlib.util.spec_from_file_location("mmfs_cli", GRADER.parent / "scripts" / "mmfs.py")
cli = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cli)


def blocks_in_use(image: Image) -> int:
    return sum(1 for block in range(image.geometry.nblocks) if image.used(block))


def fsck_errors(image: Image) -> list[str]:
    return image.fsck().errors


# --- the format ---------------------------------------------------------------


def test_superblock_and_layout_of_the_default_disk(tmp_path):
    image = mmfs.mkfs(tmp_path / "d.img")
    raw = (tmp_path / "d.img").read_bytes()
    assert len(raw) == 32 << 20
    assert raw[:4] == b"MMFS"  # 0x53464d4d little-endian
    assert struct.unpack_from("<9I", raw) == (0x53464D4D, 1, 8192, 256, 1, 1, 2, 4, 6)
    assert not any(raw[36:BLOCK_SIZE])
    assert raw[BLOCK_SIZE] == 0b0011_1111  # blocks 0..5 (metadata), LSB first
    assert not any(raw[BLOCK_SIZE + 1 : 2 * BLOCK_SIZE])
    root = raw[2 * BLOCK_SIZE + 64 : 2 * BLOCK_SIZE + 128]
    assert struct.unpack("<HHIQ10III", root)[:4] == (2, 1, 0, 0)  # a directory, empty
    assert not any(raw[2 * BLOCK_SIZE : 2 * BLOCK_SIZE + 64])  # inode 0
    assert image.fsck().clean and not image.fsck().warnings


def test_layout_of_a_bigger_disk():
    g = Image.create("256M", 1000).geometry
    assert (g.nblocks, g.bitmap_blocks, g.inode_start, g.inode_blocks, g.data_start) == (65536, 2, 3, 16, 19)


def test_inode_and_directory_entry_bytes(tmp_path):
    image = Image.create("1M", 64)
    ino = image.add("a.txt", b"hello")
    assert ino == 2
    at = image.geometry.inode_start * BLOCK_SIZE + 2 * 64
    kind, nlink, _, size, first, *_ = struct.unpack_from("<HHIQ10III", image.data, at)
    assert (kind, nlink, size) == (1, 1, 5)
    assert image.block(first)[:6] == b"hello\0"
    root = image.inode(1)
    assert root.size == BLOCK_SIZE  # whole blocks, as the kernel reads the directory
    assert image.block(root.direct[0]) == struct.pack("<I60s", 2, b"a.txt").ljust(BLOCK_SIZE, b"\0")


def test_the_directory_grows_a_block_at_a_time():
    image = Image.create("2M", 256)
    for number in range(65):
        image.add(f"f{number}", b"")
    root = image.inode(1)
    assert root.size == 2 * BLOCK_SIZE and root.direct[1]
    assert [e.slot for e in image.entries()][-2:] == [63, 64]
    image.remove("f3")
    image.add("again", b"")
    assert image.lookup("again").slot == 3 and image.inode(1).size == 2 * BLOCK_SIZE
    assert image.fsck().clean


def test_sizes():
    assert mmfs.parse_size("32M") == 32 << 20 and mmfs.parse_size("8192K") == 8 << 20
    assert mmfs.parse_size("1G") == 1 << 30 and mmfs.parse_size("65536") == 65536
    with pytest.raises(MmfsError, match="not a size"):
        mmfs.parse_size("32X")
    with pytest.raises(MmfsError, match="multiple of 4096"):
        Image.create(10000)
    with pytest.raises(MmfsError, match="no room for data"):
        Image.create(4 * BLOCK_SIZE, 256)


# --- content specs ---------------------------------------------------------------


def test_content_specs():
    runs = mmfs.parse_content("4096 * 'B', 4096*'a', 100 * 0x44")
    data = mmfs.render(runs)
    assert data == b"B" * 4096 + b"a" * 4096 + b"D" * 100
    assert mmfs.content_size(runs) == 8292
    assert mmfs.run_at(runs, 4096)[:1] == (2,) and mmfs.run_at(runs, 8292) is None
    pattern = mmfs.render(mmfs.parse_content("13288 * pattern"))
    assert len(pattern) == 13288
    assert all(pattern[i] == (i * 31 + (i >> 12)) & 0xFF for i in range(13288))
    # a pattern run counts offsets from the start of the file, not of the run
    assert mmfs.render(mmfs.parse_content("5000 * 0, 10 * pattern"))[5000] == (5000 * 31 + 1) & 0xFF
    assert mmfs.render(mmfs.parse_content("3 * ',', 2 * 7")) == b",,,\x07\x07"
    assert mmfs.parse_content("") == [] and mmfs.parse_content("  ") == []


@pytest.mark.parametrize("bad", ["4096 'B'", "* 'a'", "3 * 256", "3 * 'ab'", "3 * patterns", "1 * 'a',", "2 * '\u00e9'"])
def test_bad_content_specs(bad):
    with pytest.raises(MmfsError):
        mmfs.parse_content(bad)


# --- round trips -------------------------------------------------------------------


def test_round_trip_of_the_seed_files(tmp_path):
    seeds = {
        "pattern.dat": mmfs.render(mmfs.parse_content("13288 * pattern")),
        "synced.dat": b"a" * 8292,
        "empty.dat": b"",
    }
    mmfs.mkfs(tmp_path / "d.img", files=list(seeds.items()))
    image = Image.open(tmp_path / "d.img")
    assert [entry.name for entry in image.entries()] == list(seeds)
    for name, data in seeds.items():
        assert image.read(name) == data
        assert image.read("/" + name) == data  # a leading / is ignored
    assert image.stat("empty.dat")[1].direct == (0,) * NDIRECT
    # 4 + 3 data blocks, 1 directory block, 6 metadata blocks
    assert blocks_in_use(image) == 6 + 4 + 3 + 1
    assert image.fsck().clean


def test_names():
    image = Image.create("1M", 64)
    image.add("x" * 59, b"1")
    for bad in ["", "x" * 60, "a/b"]:
        with pytest.raises(MmfsError, match="bad file name"):
            image.add(bad, b"")
    with pytest.raises(MmfsError, match="exists"):
        image.add("x" * 59, b"2")
    with pytest.raises(MmfsError, match="no such file"):
        image.read("nothing")


def test_holes_read_as_zeros(tmp_path):
    data = b"x" * BLOCK_SIZE + bytes(3 * BLOCK_SIZE) + b"y" * 10
    image = Image.create("1M", 64)
    before = blocks_in_use(image)
    ino = image.add("sparse", data, holes=True)
    inode = image.inode(ino)
    assert inode.direct[1:4] == (0, 0, 0) and inode.direct[0] and inode.direct[4]
    assert blocks_in_use(image) == before + 2 + 1  # two data blocks and the directory's
    image.save(tmp_path / "s.img")
    assert Image.open(tmp_path / "s.img").read("sparse") == data
    assert image.fsck().clean
    # a file grown by ftruncate: size past every mapped block, nothing mapped
    grown = image.inode(image.add("grown", b""))
    grown.size = 5 * BLOCK_SIZE + 7
    image.write_inode(image.lookup("grown").ino, grown)
    assert image.read("grown") == bytes(5 * BLOCK_SIZE + 7)
    assert image.fsck().clean


def test_indirect_and_double_indirect_files():
    image = Image.create("32M", 64)
    data = bytes((i * 7 + (i >> 12)) & 0xFF for i in range((NDIRECT + NINDIRECT + 5) * BLOCK_SIZE + 123))
    before = blocks_in_use(image)
    ino = image.add("big", data)
    inode = image.inode(ino)
    assert inode.indirect and inode.dindirect
    assert blocks_in_use(image) - before == mmfs.file_blocks(len(data)) + 1  # and the directory's block
    assert mmfs.file_blocks(len(data)) == NDIRECT + NINDIRECT + 6 + 1 + 2  # data, indirect, dindirect + one middle
    assert image.read("big") == data
    assert image.fsck().clean
    image.remove("big")
    assert blocks_in_use(image) == before + 1 and image.fsck().clean


def test_sparse_double_indirect_file():
    """Data far into the double-indirect range: only the blocks on the way are allocated."""
    index = NDIRECT + NINDIRECT + 3 * NINDIRECT + 17
    data = bytes(index * BLOCK_SIZE) + b"end"
    image = Image.create("1M", 64)
    ino = image.add("far", data, holes=True)
    inode = image.inode(ino)
    assert inode.direct == (0,) * NDIRECT and inode.indirect == 0 and inode.dindirect
    assert [i for i, _ in image.mapped_blocks(ino)] == [index]
    assert len(image.map_blocks(ino)) == 2  # the double-indirect block and one middle block
    assert image.read("far")[-3:] == b"end" and len(image.read("far")) == len(data)
    assert image.fsck().clean


def test_remove_and_replace_reuse_the_space():
    image = Image.create("1M", 64)
    image.add("a", b"1" * 3 * BLOCK_SIZE)
    image.add("b", b"2")
    used = blocks_in_use(image)
    image.replace("a", b"3" * 3 * BLOCK_SIZE)
    assert blocks_in_use(image) == used
    assert [e.name for e in image.entries()] == ["a", "b"]  # a took its old slot again
    assert image.read("a") == b"3" * 3 * BLOCK_SIZE and image.read("b") == b"2"
    assert image.fsck().clean


# --- a full disk -----------------------------------------------------------------


def test_full_disk():
    image = Image.create(64 * BLOCK_SIZE, 8)  # data blocks 3..63
    free = image.geometry.nblocks - image.geometry.data_start - 1  # one for the directory
    image.add("fill", b"f" * (free - 1) * BLOCK_SIZE)  # and one indirect block
    assert blocks_in_use(image) == image.geometry.nblocks
    assert image.fsck().clean
    snapshot = bytes(image.data)
    with pytest.raises(MmfsError, match="the disk is full"):
        image.add("one-more", b"x")
    assert bytes(image.data) == snapshot  # nothing half-done
    assert image.add("empty", b"") and image.fsck().clean  # an empty file needs no block


def test_out_of_inodes():
    image = Image.create("1M", 4)  # 0 unused, 1 root, so two files
    image.add("a", b"")
    image.add("b", b"")
    with pytest.raises(MmfsError, match="no free inode"):
        image.add("c", b"")


def test_fits():
    assert mmfs.fits(32 << 20, 256, [13288, 8292, 0]) is None
    assert "need" in mmfs.fits(64 * BLOCK_SIZE, 8, [61 * BLOCK_SIZE])
    assert "inodes" in mmfs.fits(32 << 20, 4, [1, 1, 1])


# --- fsck catches each kind of damage ---------------------------------------------------


def damaged() -> Image:
    """Two files (a: 3 blocks, b: 12 blocks, through its indirect block), fsck-clean."""
    image = Image.create("1M", 64)
    image.add("a", b"a" * 3 * BLOCK_SIZE)
    image.add("b", b"b" * 12 * BLOCK_SIZE)
    assert image.fsck().clean
    return image


def set_inode(image: Image, ino: int, **fields) -> None:
    inode = image.inode(ino)
    for key, value in fields.items():
        setattr(inode, key, value)
    image.write_inode(ino, inode)


def first_free(image: Image) -> int:
    return next(b for b in range(image.geometry.data_start, image.geometry.nblocks) if not image.used(b))


def _leak(image):
    image.set_used(first_free(image), True)


def _used_but_free(image):
    image.set_used(image.inode(2).direct[1], False)


def _twice(image):
    set_inode(image, 3, direct=(image.inode(2).direct[0],) + image.inode(3).direct[1:])


def _past_size(image):
    set_inode(image, 2, size=BLOCK_SIZE)


def _entry_to_free_inode(image):
    set_inode(image, 3, type=0)


def _entry_out_of_range(image):
    root = image.inode(1)
    struct.pack_into("<I", image.data, root.direct[0] * BLOCK_SIZE, 999)


def _metadata_pointer(image):
    set_inode(image, 2, direct=(1,) + image.inode(2).direct[1:])


def _off_the_disk(image):
    block = image.inode(3).indirect
    struct.pack_into("<I", image.data, block * BLOCK_SIZE, 10_000)


def _metadata_marked_free(image):
    image.set_used(0, False)


def _nlink(image):
    set_inode(image, 2, nlink=2)


def _lost(image):
    root = image.inode(1)
    struct.pack_into("<I", image.data, root.direct[0] * BLOCK_SIZE + 64, 0)  # b's entry freed, b still linked


def _duplicate_name(image):
    root = image.inode(1)
    struct.pack_into("<I60s", image.data, root.direct[0] * BLOCK_SIZE + 64, 3, b"a")


def _slash(image):
    root = image.inode(1)
    struct.pack_into("<I60s", image.data, root.direct[0] * BLOCK_SIZE, 2, b"x/y")


def _root_not_a_directory(image):
    set_inode(image, 1, type=1)


def _too_big(image):
    set_inode(image, 2, size=mmfs.MAX_FILE_SIZE + 1)


def _bit_past_the_end(image):
    image.set_used(image.geometry.nblocks + 3, True)


def _second_directory(image):
    set_inode(image, 3, type=2)


def _inode_zero(image):
    set_inode(image, 0, type=1)


def _odd_directory_size(image):
    set_inode(image, 1, size=100)


def _geometry(image):
    struct.pack_into("<I", image.data, 24, 5)  # inode_start


DAMAGE = [
    (_leak, "marked in use, but no inode uses them (leaked)"),
    (_used_but_free, "is used by inode 2 ('a'), file block 1 but marked free"),
    (_twice, "is used twice: by inode 2 ('a'), file block 0 and by inode 3 ('b'), file block 0"),
    (_past_size, "inode 2 ('a') has size 4096 (1 blocks) but maps file block(s) 1-2 past its end"),
    (_entry_to_free_inode, "directory slot 1 ('b') points to inode 3, which is free"),
    (_entry_out_of_range, "directory slot 0 ('a') points to inode 999, which is not a file's (2..63)"),
    (_metadata_pointer, "inode 2 ('a'), file block 0 points to block 1, which is metadata"),
    (_off_the_disk, "inode 3 ('b'), file block 10 points to block 10000, which is past the end of the disk"),
    (_metadata_marked_free, "metadata block(s) 0 marked free"),
    (_nlink, "inode 2 has nlink 2, but 1 directory entry names it"),
    (_lost, "inode 3 (regular file, nlink 1, size 49152) is in use but no directory entry names it"),
    (_duplicate_name, "directory slot 1 ('a'): the name is also in slot 0"),
    (_slash, "directory slot 0 ('x/y'): the name must be 1..59 bytes, NUL-terminated, without '/'"),
    (_root_not_a_directory, "inode 1 (the root directory) has type 1 (regular file), not a directory"),
    (_too_big, "larger than the largest file"),
    (_bit_past_the_end, "bitmap: bit(s) 259 set, past the last block (255)"),
    (_second_directory, "inode 3 ('b') is a directory; the only directory is inode 1"),
    (_inode_zero, "inode 0 is never used, but has type 1"),
    (_odd_directory_size, "the root directory's size 100 is not a multiple of 64"),
    (_geometry, "is not mkfs's for 256 blocks and 64 inodes"),
]


@pytest.mark.parametrize("damage, message", DAMAGE, ids=[d.__name__.strip("_") for d, _ in DAMAGE])
def test_fsck_finds_damage(damage, message):
    image = damaged()
    damage(image)
    errors = fsck_errors(image)
    assert any(message in error for error in errors), errors


def test_an_orphan_is_a_warning():
    image = damaged()
    root = image.inode(1)
    struct.pack_into("<I", image.data, root.direct[0] * BLOCK_SIZE + 64, 0)
    set_inode(image, 3, nlink=0)
    report = image.fsck()
    assert report.clean
    assert report.warnings == ["inode 3 (regular file, size 49152) was unlinked but not freed (an orphan: still open at power-off?)"]


def test_not_an_image(tmp_path):
    (tmp_path / "x.img").write_bytes(bytes(2 * BLOCK_SIZE))
    with pytest.raises(MmfsError, match="bad magic 0x00000000"):
        Image.open(tmp_path / "x.img")
    (tmp_path / "y.img").write_bytes(b"MM")
    with pytest.raises(MmfsError, match="too small"):
        Image.open(tmp_path / "y.img")
    with pytest.raises(MmfsError, match="cannot read"):
        Image.open(tmp_path / "none.img")


def test_a_truncated_image():
    image = damaged()
    image.data = image.data[: 100 * BLOCK_SIZE]
    assert fsck_errors(image) == ["superblock: 256 blocks, but the image holds only 100"]


def test_many_problems_are_capped():
    image = damaged()
    image.add("c", b"c" * 40 * BLOCK_SIZE)
    for block in range(image.geometry.data_start, image.geometry.nblocks):
        image.set_used(block, False)
    errors = fsck_errors(image)
    assert len(errors) == mmfs.MAX_MESSAGES + 1 and errors[-1].startswith("... and ")


# --- the command line ----------------------------------------------------------------


def run(capsys, *argv):
    code = cli.main([str(arg) for arg in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_mkfs_ls_cat_get_fsck(tmp_path, capsys):
    host = tmp_path / "host.bin"
    host.write_bytes(b"from the host\n")
    img = tmp_path / "d.img"
    code, out, _ = run(capsys, "mkfs", img, "--size", "2M", "--inodes", "32", "h.txt=" + str(host),
                       "pattern.dat=@13288*pattern", "synced.dat=@8292 * 'a'", "empty.dat=@")  # fmt: skip
    assert code == 0 and out == f"mmfs: {img}: 512 blocks of 4096, 32 inodes, 4 file(s)\n"
    code, out, _ = run(capsys, "ls", img)
    assert out.splitlines() == [
        "    2          14       1 blocks  h.txt",
        "    3       13288       4 blocks  pattern.dat",
        "    4        8292       3 blocks  synced.dat",
        "    5           0       0 blocks  empty.dat",
    ]
    assert run(capsys, "cat", img, "h.txt") == (0, "from the host\n", "")
    assert run(capsys, "get", img, "pattern.dat", tmp_path / "p")[0] == 0
    assert (tmp_path / "p").read_bytes() == mmfs.render(mmfs.parse_content("13288 * pattern"))
    code, out, _ = run(capsys, "fsck", img)
    assert code == 0 and out == f"fsck: {img}: clean, 4 file(s), 12 of 512 blocks in use\n"


def test_cli_fsck_reports_damage(tmp_path, capsys):
    image = damaged()
    _leak(image)
    image.save(tmp_path / "bad.img")
    code, out, _ = run(capsys, "fsck", tmp_path / "bad.img")
    assert code == 1
    assert out.splitlines()[-1] == f"fsck: {tmp_path / 'bad.img'}: 1 problem(s)"
    assert "(leaked)" in out


def test_cli_errors(tmp_path, capsys):
    img = tmp_path / "d.img"
    code, _, err = run(capsys, "mkfs", img, "--size", "256K", "big=@1000000*0")
    assert code == 1 and "the disk is full" in err
    assert run(capsys, "mkfs", img, "noequals")[2] == "mmfs: 'noequals': want NAME=PATH or NAME=@SPEC\n"
    assert "cannot read" in run(capsys, "mkfs", img, "x=" + str(tmp_path / "missing"))[2]
    run(capsys, "mkfs", img)
    assert run(capsys, "cat", img, "nothing") == (1, "", "mmfs: nothing: no such file\n")
    (tmp_path / "zeros.img").write_bytes(bytes(BLOCK_SIZE))
    assert "bad magic" in run(capsys, "ls", tmp_path / "zeros.img")[2]
    assert "cannot read" in run(capsys, "fsck", tmp_path / "missing.img")[2]


def test_cli_mkfs_holes(tmp_path, capsys):
    img = tmp_path / "d.img"
    assert run(capsys, "mkfs", img, "--holes", "--size", "1M", "z=@40960*0, 1*'x'")[0] == 0
    image = Image.open(img)
    assert [i for i, _ in image.mapped_blocks(2)] == [10]
    assert image.read("z") == bytes(40960) + b"x"


def test_cli_mkfs_from_a_rubric(tmp_path, capsys):
    rubric = tmp_path / "r.toml"
    rubric.write_text(
        '[ch5]\ntitle = "t"\nconfigs = [{ name = "a", memory = "64M", smp = 1 }]\n'
        '[ch5.disk]\nsize = "4M"\ninodes = 64\n'
        "files = [\n  { name = \"synced.dat\", content = \"8292 * 'a'\" },\n  { name = \"empty.dat\", content = \"\" },\n]\n"
    )
    img = tmp_path / "d.img"
    code, out, _ = run(capsys, "mkfs", img, "--chapter", "5", "--rubric", rubric, "empty.dat=@1*'e'", "more=@2*'m'")
    assert code == 0 and "1024 blocks of 4096, 64 inodes, 3 file(s)" in out
    image = Image.open(img)
    assert [(e.name, image.read(e.name)) for e in image.entries()] == [
        ("synced.dat", b"a" * 8292), ("empty.dat", b"e"), ("more", b"mm")]  # fmt: skip
    assert run(capsys, "mkfs", img, "--chapter", "5", "--rubric", rubric, "--size", "8M")[0] == 0
    assert Image.open(img).geometry.nblocks == 2048
    code, _, err = run(capsys, "mkfs", img, "--chapter", "4", "--rubric", rubric)
    assert code == 1 and "has no [ch4.disk] section" in err
