"""mmfs, chapter 5's on-disk file store, on the host: make an image, read it back, check it.

The format (the kernel's ch5/fs implements the same; little-endian everywhere,
blocks of 4096 bytes, one block per page-cache page):

* block 0, the superblock: u32 magic 0x53464d4d ("MMFS" in memory), u32
  version 1, u32 nblocks, u32 ninodes, u32 bitmap_start (1), u32
  bitmap_blocks, u32 inode_start, u32 inode_blocks, u32 data_start; the rest
  zero.
* the bitmap, from block 1: bit b (byte b / 8, bit b % 8, LSB first) set means
  block b is in use; blocks [0, data_start) are always set, bits past
  nblocks are clear.
* the inodes, 64 bytes each, 64 a block, numbered 0 .. ninodes - 1; inode 0
  is never used, inode 1 is the root directory: ``{ u16 type (0 free, 1
  regular file, 2 directory); u16 nlink; u32 reserved; u64 size; u32
  direct[10]; u32 indirect; u32 dindirect; }``, so a file maps 10 + 1024 +
  1024 * 1024 blocks. A 0 in a map is a hole: it reads as zeros.
* the directory, inode 1's data: 64-byte entries ``{ u32 ino (0: a free
  slot); char name[60] }``, the name 1..59 bytes, NUL-terminated, no '/'.
  One flat directory, whose size is whole blocks (it grows a block of free
  slots at a time; fsck only asks for whole entries).

Also the byte-content specs the rubric (and scripts/mmfs.py) use for seed
files and expected contents: comma-separated runs ``COUNT * UNIT``, a unit
being one byte (``'a'`` for an ASCII character, ``0x61`` or ``97``) or ``pattern``, whose byte at
file offset i is ``(i * 31 + (i >> 12)) & 0xff``. ``""`` is no bytes.

Python 3.11 standard library only (the grader imports it).
"""

import re
import struct
from dataclasses import dataclass
from pathlib import Path

BLOCK_SIZE = 4096
MAGIC = 0x53464D4D
VERSION = 1
INODE_SIZE = 64
INODES_PER_BLOCK = BLOCK_SIZE // INODE_SIZE
DIRENT_SIZE = 64
NAME_MAX = 59
NDIRECT = 10
NINDIRECT = BLOCK_SIZE // 4
MAX_FILE_BLOCKS = NDIRECT + NINDIRECT + NINDIRECT * NINDIRECT
MAX_FILE_SIZE = MAX_FILE_BLOCKS * BLOCK_SIZE
ROOT_INO = 1
T_FREE, T_FILE, T_DIR = 0, 1, 2
TYPE_NAMES = {T_FREE: "free", T_FILE: "regular file", T_DIR: "directory"}
DEFAULT_SIZE = 32 << 20
DEFAULT_INODES = 256
MAX_MESSAGES = 20

_SUPER = struct.Struct("<9I")
_INODE = struct.Struct("<HHIQ10III")
_DIRENT = struct.Struct("<I60s")
_SIZE_RE = re.compile(r"^\s*(\d+)\s*([KMG]?)(?:i?B)?\s*$", re.I)
_RUN_RE = re.compile(r"^\s*(\d+)\s*\*\s*(pattern|'(.)'|0x[0-9a-fA-F]{1,2}|\d{1,3})\s*$", re.S)


class MmfsError(Exception):
    """An image that cannot be made or read, a bad spec, a missing file, a full disk."""


# --- sizes and content specs ----------------------------------------------------


def parse_size(text: str | int) -> int:
    """Bytes from ``32M``, ``4096K``, ``1G`` or a plain number (binary units, as QEMU's -m)."""
    if isinstance(text, int):
        return text
    match = _SIZE_RE.match(text)
    if not match:
        raise MmfsError(f"not a size: {text!r} (want e.g. 32M, 8192K or bytes)")
    return int(match[1]) << {"": 0, "K": 10, "M": 20, "G": 30}[match[2].upper()]


@dataclass(frozen=True)
class Run:
    """``count`` bytes of one value, or of the pattern when ``byte`` is None."""

    count: int
    byte: int | None
    text: str

    def at(self, offset: int) -> int:
        """The run's byte at file offset @p offset."""
        return pattern_byte(offset) if self.byte is None else self.byte


def pattern_byte(offset: int) -> int:
    """The pattern's byte at file offset @p offset: (i * 31 + (i >> 12)) & 0xff."""
    return (offset * 31 + (offset >> 12)) & 0xFF


def parse_content(spec: str) -> list[Run]:
    """The runs of a content spec such as ``"4096 * 'B', 100 * 0x44, 13288 * pattern"``."""
    if not spec.strip():
        return []
    runs = []
    for part in _split_runs(spec):
        match = _RUN_RE.match(part)
        if not match:
            raise MmfsError(f"bad content run {part.strip()!r} in {spec!r} (want COUNT * 'c', COUNT * 0xNN or COUNT * pattern)")
        unit = match[2]
        if unit == "pattern":
            byte = None
        elif match[3] is not None:
            if ord(match[3]) > 0x7F:
                raise MmfsError(f"content run {part.strip()!r}: {match[3]!r} is not ASCII (write its byte as 0xNN)")
            byte = ord(match[3])
        else:
            byte = int(unit, 0)
            if byte > 0xFF:
                raise MmfsError(f"content run {part.strip()!r}: {byte} is not a byte")
        runs.append(Run(int(match[1]), byte, part.strip()))
    return runs


def _split_runs(spec: str) -> list[str]:
    """Split at commas outside quotes (``3 * ','`` is one run)."""
    parts, current, quoted = [], "", False
    for char in spec:
        if char == "'":
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    return parts + [current]


def content_size(runs: list[Run]) -> int:
    """The bytes a content spec makes."""
    return sum(run.count for run in runs)


def render(runs: list[Run]) -> bytes:
    """The bytes of a content spec, each run's pattern bytes by their offset in the file."""
    out = bytearray()
    for run in runs:
        if run.byte is None:
            start = len(out)
            out += bytes(pattern_byte(offset) for offset in range(start, start + run.count))
        else:
            out += bytes([run.byte]) * run.count
    return bytes(out)


def run_at(runs: list[Run], offset: int) -> tuple[int, Run, int] | None:
    """(run number from 1, the run, its start offset) of the run holding @p offset, or None."""
    start = 0
    for number, run in enumerate(runs, start=1):
        if offset < start + run.count:
            return number, run, start
        start += run.count
    return None


def byte_text(value: int) -> str:
    """``0x61 'a'`` for a printable byte, ``0x00`` otherwise."""
    return f"0x{value:02x} '{chr(value)}'" if 0x20 <= value < 0x7F else f"0x{value:02x}"


# --- the layout ----------------------------------------------------------------


@dataclass(frozen=True)
class Geometry:
    """Where everything is on a disk of nblocks blocks with ninodes inodes."""

    nblocks: int
    ninodes: int
    bitmap_start: int
    bitmap_blocks: int
    inode_start: int
    inode_blocks: int
    data_start: int

    @classmethod
    def plan(cls, size: int, ninodes: int) -> "Geometry":
        """The layout mkfs gives a disk of @p size bytes and @p ninodes inodes."""
        if size % BLOCK_SIZE:
            raise MmfsError(f"disk size {size} is not a multiple of {BLOCK_SIZE}")
        if not 2 <= ninodes < 1 << 32:
            raise MmfsError(f"{ninodes} inodes: want at least 2 (0 is unused, 1 is the root directory)")
        nblocks = size // BLOCK_SIZE
        bitmap_blocks = _ceil(nblocks, BLOCK_SIZE * 8)
        inode_blocks = _ceil(ninodes, INODES_PER_BLOCK)
        geometry = cls(nblocks, ninodes, 1, bitmap_blocks, 1 + bitmap_blocks, inode_blocks, 1 + bitmap_blocks + inode_blocks)
        if geometry.data_start >= nblocks or nblocks >= 1 << 32:
            raise MmfsError(f"disk of {size} bytes: no room for data after {geometry.data_start} blocks of metadata")
        return geometry

    def pack(self) -> bytes:
        """The superblock."""
        fields = (MAGIC, VERSION, self.nblocks, self.ninodes, self.bitmap_start, self.bitmap_blocks,
                  self.inode_start, self.inode_blocks, self.data_start)  # fmt: skip
        return _SUPER.pack(*fields).ljust(BLOCK_SIZE, b"\0")


def _ceil(value: int, unit: int) -> int:
    return -(-value // unit)


def file_blocks(size: int) -> int:
    """The blocks a file of @p size bytes takes without holes: data, then indirect and double-indirect blocks."""
    data = _ceil(size, BLOCK_SIZE)
    maps = 0
    if data > NDIRECT:
        maps += 1
    if data > NDIRECT + NINDIRECT:
        maps += 1 + _ceil(data - NDIRECT - NINDIRECT, NINDIRECT)
    return data + maps


def fits(size: int, ninodes: int, file_sizes: list[int]) -> str | None:
    """None if files of @p file_sizes fit on a fresh disk (no holes), else why not."""
    geometry = Geometry.plan(size, ninodes)
    if len(file_sizes) > ninodes - 2:
        return f"{len(file_sizes)} files need {len(file_sizes) + 2} inodes, the disk has {ninodes}"
    need = sum(file_blocks(s) for s in file_sizes) + file_blocks(len(file_sizes) * DIRENT_SIZE)
    have = geometry.nblocks - geometry.data_start
    if need > have:
        return f"the files need {need} blocks, the disk has {have} for data"
    return None


@dataclass
class Inode:
    """One inode as stored."""

    type: int = T_FREE
    nlink: int = 0
    reserved: int = 0
    size: int = 0
    direct: tuple[int, ...] = (0,) * NDIRECT
    indirect: int = 0
    dindirect: int = 0

    @classmethod
    def unpack(cls, raw: bytes) -> "Inode":
        fields = _INODE.unpack(raw)
        return cls(fields[0], fields[1], fields[2], fields[3], tuple(fields[4:14]), fields[14], fields[15])

    def pack(self) -> bytes:
        return _INODE.pack(self.type, self.nlink, self.reserved, self.size, *self.direct, self.indirect, self.dindirect)


@dataclass(frozen=True)
class Entry:
    """A directory entry: its slot, the inode it names and the name."""

    slot: int
    ino: int
    name: str


@dataclass
class FsckReport:
    """What fsck found: errors (the image is damaged) and warnings (odd, not damage)."""

    errors: list[str]
    warnings: list[str]

    @property
    def clean(self) -> bool:
        return not self.errors


def check_name(name: str) -> bytes:
    """@p name as stored (UTF-8); MmfsError unless 1..59 bytes, no '/' and no NUL."""
    raw = name.encode("utf-8")
    if not 1 <= len(raw) <= NAME_MAX or b"/" in raw or b"\0" in raw:
        raise MmfsError(f"bad file name {name!r}: 1..{NAME_MAX} bytes, no '/'")
    return raw


class Image:
    """An mmfs image in memory: made fresh (create) or read from a file (open)."""

    def __init__(self, data: bytearray, geometry: Geometry):
        self.data = data
        self.geometry = geometry
        self._cursor = geometry.data_start  # no free data block below it

    # -- making ----------------------------------------------------------------

    @classmethod
    def create(cls, size: int | str = DEFAULT_SIZE, ninodes: int = DEFAULT_INODES) -> "Image":
        """A fresh, empty file store of @p size bytes with @p ninodes inodes."""
        geometry = Geometry.plan(parse_size(size), ninodes)
        image = cls(bytearray(geometry.nblocks * BLOCK_SIZE), geometry)
        image.data[:BLOCK_SIZE] = geometry.pack()
        for block in range(geometry.data_start):
            image.set_used(block, True)
        image.write_inode(ROOT_INO, Inode(type=T_DIR, nlink=1))
        return image

    @classmethod
    def open(cls, path: Path | str) -> "Image":
        """Read the image at @p path; MmfsError if it is not mmfs."""
        try:
            data = bytearray(Path(path).read_bytes())
        except OSError as err:
            raise MmfsError(f"cannot read {path}: {err.strerror}") from err
        if len(data) < BLOCK_SIZE:
            raise MmfsError(f"{path}: {len(data)} bytes, too small for a superblock")
        magic, version, *rest = _SUPER.unpack_from(data)
        if magic != MAGIC:
            raise MmfsError(f"{path}: bad magic 0x{magic:08x} (want 0x{MAGIC:08x}, 'MMFS'): not an mmfs image")
        if version != VERSION:
            raise MmfsError(f"{path}: version {version}, this tool reads version {VERSION}")
        geometry = Geometry(*rest)
        return cls(data, geometry)

    def save(self, path: Path | str) -> None:
        """Write the image to @p path (replacing it), as a sparse file: blocks of zeros are not written."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        zero = bytes(BLOCK_SIZE)
        view = memoryview(self.data)
        with open(path, "wb") as out:
            for at in range(0, len(self.data), BLOCK_SIZE):
                block = view[at : at + BLOCK_SIZE]
                if block != zero:
                    out.seek(at)
                    out.write(block)
            out.truncate(len(self.data))

    def add(self, name: str, data: bytes, holes: bool = False) -> int:
        """Add a regular file @p name holding @p data; return its inode number.

        With @p holes, blocks of zeros are left unallocated (a 0 in the map).
        MmfsError if the name is bad or taken, or the disk has no inode or block left.
        """
        raw = check_name(name)
        if self.lookup(name) is not None:
            raise MmfsError(f"{name}: a file of that name exists")
        if len(data) > MAX_FILE_SIZE:
            raise MmfsError(f"{name}: {len(data)} bytes, larger than the largest file ({MAX_FILE_SIZE})")
        ino = self._free_inode()
        inode = Inode(type=T_FILE, nlink=1, size=len(data))
        self.write_inode(ino, inode)
        allocated: list[int] = []
        try:
            for index in range(_ceil(len(data), BLOCK_SIZE)):
                chunk = data[index * BLOCK_SIZE : (index + 1) * BLOCK_SIZE]
                if holes and not any(chunk):
                    continue
                block = self._alloc(allocated, f"{name}: the disk is full")
                self.data[block * BLOCK_SIZE : block * BLOCK_SIZE + len(chunk)] = chunk
                self._map(ino, index, block, allocated, name)
            self._add_entry(ino, raw, allocated)
        except MmfsError:
            for block in allocated:
                self.set_used(block, False)
            self.write_inode(ino, Inode())
            raise
        return ino

    def remove(self, name: str) -> None:
        """Delete file @p name: its blocks and inode become free, its directory slot too."""
        entry = self.lookup(name)
        if entry is None:
            raise MmfsError(f"{name}: no such file")
        for _, block in self.mapped_blocks(entry.ino):
            self.set_used(block, False)
        for block in self.map_blocks(entry.ino):
            self.set_used(block, False)
        self.write_inode(entry.ino, Inode())
        root = self.inode(ROOT_INO)
        self._write_file_bytes(root, entry.slot * DIRENT_SIZE, bytes(DIRENT_SIZE))

    def replace(self, name: str, data: bytes, holes: bool = False) -> int:
        """Give file @p name new contents (creating it if missing)."""
        if self.lookup(name) is not None:
            self.remove(name)
        return self.add(name, data, holes)

    def _free_inode(self) -> int:
        for ino in range(ROOT_INO + 1, self.geometry.ninodes):
            if self.inode(ino).type == T_FREE:
                return ino
        raise MmfsError(f"no free inode (the disk has {self.geometry.ninodes})")

    def _alloc(self, allocated: list[int], why: str) -> int:
        """Take the first free data block, zeroed; remember it in @p allocated."""
        for block in range(max(self._cursor, self.geometry.data_start), self.geometry.nblocks):
            if not self.used(block):
                self._cursor = block + 1
                self.set_used(block, True)
                self.data[block * BLOCK_SIZE : (block + 1) * BLOCK_SIZE] = bytes(BLOCK_SIZE)
                allocated.append(block)
                return block
        self._cursor = self.geometry.nblocks
        raise MmfsError(why)

    def _map(self, ino: int, index: int, block: int, allocated: list[int], name: str) -> None:
        """Point file block @p index of inode @p ino at @p block, making map blocks as needed."""
        inode = self.inode(ino)
        full = f"{name}: the disk is full"
        if index < NDIRECT:
            direct = list(inode.direct)
            direct[index] = block
            inode.direct = tuple(direct)
        elif index < NDIRECT + NINDIRECT:
            if not inode.indirect:
                inode.indirect = self._alloc(allocated, full)
            self._set_entry(inode.indirect, index - NDIRECT, block)
        else:
            index -= NDIRECT + NINDIRECT
            if not inode.dindirect:
                inode.dindirect = self._alloc(allocated, full)
            middle = self._entry(inode.dindirect, index // NINDIRECT)
            if not middle:
                middle = self._alloc(allocated, full)
                self._set_entry(inode.dindirect, index // NINDIRECT, middle)
            self._set_entry(middle, index % NINDIRECT, block)
        self.write_inode(ino, inode)

    def _add_entry(self, ino: int, raw: bytes, allocated: list[int]) -> None:
        """Put (ino, name) in the first free directory slot; with none, the directory grows by a
        whole block of free slots (its size is always whole blocks, as the kernel's ch5/fs/dir.c
        reads and grows it)."""
        root = self.inode(ROOT_INO)
        slots = root.size // DIRENT_SIZE
        slot = next((s for s in range(slots) if self._dirent(root, s)[0] == 0), slots)
        if slot == slots:
            index = _ceil(root.size, BLOCK_SIZE)
            block = self._alloc(allocated, "the directory cannot grow: the disk is full")
            self._map(ROOT_INO, index, block, allocated, "the directory")
            root = self.inode(ROOT_INO)
            root.size = (index + 1) * BLOCK_SIZE
            slot = index * BLOCK_SIZE // DIRENT_SIZE
            self.write_inode(ROOT_INO, root)
        self._write_file_bytes(root, slot * DIRENT_SIZE, _DIRENT.pack(ino, raw))

    def _write_file_bytes(self, inode: Inode, offset: int, raw: bytes) -> None:
        """Overwrite bytes inside one allocated block of @p inode (directory slots)."""
        block = self.bmap(inode, offset // BLOCK_SIZE)
        at = block * BLOCK_SIZE + offset % BLOCK_SIZE
        self.data[at : at + len(raw)] = raw

    # -- low level ------------------------------------------------------------

    def block(self, number: int) -> bytes:
        """The 4096 bytes of block @p number."""
        return bytes(self.data[number * BLOCK_SIZE : (number + 1) * BLOCK_SIZE])

    def used(self, block: int) -> bool:
        """True if the bitmap marks @p block in use."""
        at = self.geometry.bitmap_start * BLOCK_SIZE + block // 8
        return bool(self.data[at] >> (block % 8) & 1)

    def set_used(self, block: int, used: bool) -> None:
        """Mark @p block in use or free in the bitmap."""
        at = self.geometry.bitmap_start * BLOCK_SIZE + block // 8
        if used:
            self.data[at] |= 1 << (block % 8)
        else:
            self.data[at] &= ~(1 << (block % 8)) & 0xFF
            self._cursor = min(self._cursor, block)

    def _inode_at(self, ino: int) -> int:
        if not 0 <= ino < self.geometry.ninodes:
            raise MmfsError(f"inode {ino} out of range (0..{self.geometry.ninodes - 1})")
        return self.geometry.inode_start * BLOCK_SIZE + ino * INODE_SIZE

    def inode(self, ino: int) -> Inode:
        """Inode @p ino as stored."""
        at = self._inode_at(ino)
        return Inode.unpack(bytes(self.data[at : at + INODE_SIZE]))

    def write_inode(self, ino: int, inode: Inode) -> None:
        """Store @p inode as inode @p ino."""
        at = self._inode_at(ino)
        self.data[at : at + INODE_SIZE] = inode.pack()

    def _entry(self, block: int, index: int) -> int:
        return struct.unpack_from("<I", self.data, block * BLOCK_SIZE + index * 4)[0]

    def _set_entry(self, block: int, index: int, value: int) -> None:
        struct.pack_into("<I", self.data, block * BLOCK_SIZE + index * 4, value)

    def _valid(self, block: int) -> bool:
        return 0 < block < self.geometry.nblocks

    def bmap(self, inode: Inode, index: int) -> int:
        """The block holding file block @p index of @p inode (0: a hole, or a map that points off the disk)."""
        if index < NDIRECT:
            return inode.direct[index]
        index -= NDIRECT
        if index < NINDIRECT:
            return self._entry(inode.indirect, index) if self._valid(inode.indirect) else 0
        index -= NINDIRECT
        if index >= NINDIRECT * NINDIRECT or not self._valid(inode.dindirect):
            return 0
        middle = self._entry(inode.dindirect, index // NINDIRECT)
        return self._entry(middle, index % NINDIRECT) if self._valid(middle) else 0

    def mapped_blocks(self, ino: int):
        """(file block index, block) for every non-zero data block inode @p ino maps, in file order."""
        inode = self.inode(ino)
        for index, block in enumerate(inode.direct):
            if block:
                yield index, block
        if self._valid(inode.indirect):
            for i in range(NINDIRECT):
                block = self._entry(inode.indirect, i)
                if block:
                    yield NDIRECT + i, block
        if self._valid(inode.dindirect):
            for m in range(NINDIRECT):
                middle = self._entry(inode.dindirect, m)
                if not self._valid(middle):
                    continue
                for i in range(NINDIRECT):
                    block = self._entry(middle, i)
                    if block:
                        yield NDIRECT + NINDIRECT + m * NINDIRECT + i, block

    def map_blocks(self, ino: int) -> list[int]:
        """The indirect and double-indirect blocks of inode @p ino (only those on the disk)."""
        inode = self.inode(ino)
        blocks = [b for b in (inode.indirect, inode.dindirect) if self._valid(b)]
        if self._valid(inode.dindirect):
            blocks += [m for m in (self._entry(inode.dindirect, i) for i in range(NINDIRECT)) if self._valid(m)]
        return blocks

    # -- reading -----------------------------------------------------------------

    def _dirent(self, root: Inode, slot: int) -> tuple[int, bytes]:
        offset = slot * DIRENT_SIZE
        block = self.bmap(root, offset // BLOCK_SIZE)
        if not self._valid(block):
            return 0, b""
        return _DIRENT.unpack_from(self.data, block * BLOCK_SIZE + offset % BLOCK_SIZE)

    def entries(self) -> list[Entry]:
        """The directory's used entries, in slot order."""
        root = self.inode(ROOT_INO)
        entries = []
        for slot in range(root.size // DIRENT_SIZE):
            ino, raw = self._dirent(root, slot)
            if ino:
                name = raw.split(b"\0", 1)[0].decode("utf-8", "replace")
                entries.append(Entry(slot, ino, name))
        return entries

    def lookup(self, name: str) -> Entry | None:
        """The entry of file @p name (a leading '/' is ignored), or None."""
        name = name.lstrip("/")
        return next((entry for entry in self.entries() if entry.name == name), None)

    def stat(self, name: str) -> tuple[int, Inode]:
        """(inode number, inode) of file @p name; MmfsError if there is none."""
        entry = self.lookup(name)
        if entry is None:
            raise MmfsError(f"{name}: no such file")
        return entry.ino, self.inode(entry.ino)

    def chunks(self, name: str):
        """The bytes of file @p name, one block at a time (holes read as zeros)."""
        _, inode = self.stat(name)
        for index in range(_ceil(inode.size, BLOCK_SIZE)):
            length = min(BLOCK_SIZE, inode.size - index * BLOCK_SIZE)
            block = self.bmap(inode, index)
            yield self.block(block)[:length] if self._valid(block) else bytes(length)

    def read(self, name: str) -> bytes:
        """The whole of file @p name."""
        return b"".join(self.chunks(name))

    # -- checking ------------------------------------------------------------------

    def fsck(self) -> FsckReport:
        """Check the image: superblock, inodes, maps, directory and bitmap (see check_image)."""
        return _Fsck(self).run()


class _Fsck:
    """One fsck pass; problems are collected, not raised."""

    def __init__(self, image: Image):
        self.image = image
        self.g = image.geometry
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.owner: dict[int, str] = {}

    def run(self) -> FsckReport:
        if self._superblock():
            names = self._directory_names()
            for ino in range(self.g.ninodes):
                self._inode(ino, names.get(ino))
            self._directory()
            self._bitmap()
        return FsckReport(_capped(self.errors), _capped(self.warnings))

    def _superblock(self) -> bool:
        magic, version, *rest = _SUPER.unpack_from(self.image.data)
        if (magic, version) != (MAGIC, VERSION):
            self.errors.append(f"superblock: magic 0x{magic:08x}, version {version} (want 0x{MAGIC:08x}, {VERSION})")
            return False
        self.g = self.image.geometry = Geometry(*rest)
        g, size = self.g, len(self.image.data)
        try:
            want = Geometry.plan(g.nblocks * BLOCK_SIZE, g.ninodes)
        except MmfsError as err:
            self.errors.append(f"superblock: {err}")
            return False
        if g != want:
            self.errors.append(f"superblock: layout {g} is not mkfs's for {g.nblocks} blocks and {g.ninodes} inodes ({want})")
            return False
        if size < g.nblocks * BLOCK_SIZE:
            self.errors.append(f"superblock: {g.nblocks} blocks, but the image holds only {size // BLOCK_SIZE}")
            return False
        if any(self.image.data[_SUPER.size : BLOCK_SIZE]):
            self.warnings.append("superblock: bytes after data_start are not zero")
        return True

    def _describe(self, ino: int, name: str | None) -> str:
        if ino == ROOT_INO:
            return "inode 1 (the root directory)"
        return f"inode {ino} ({name!r})" if name else f"inode {ino}"

    def _directory_names(self) -> dict[int, str]:
        root = self.image.inode(ROOT_INO)
        if root.type != T_DIR:
            return {}
        return {entry.ino: entry.name for entry in self.image.entries() if 0 < entry.ino < self.g.ninodes}

    def _claim(self, block: int, what: str) -> bool:
        """Record that @p what uses @p block; report a block off the disk or used twice."""
        if not self.g.data_start <= block < self.g.nblocks:
            area = "metadata" if block < self.g.data_start else "past the end of the disk"
            self.errors.append(f"{what} points to block {block}, which is {area} (data is [{self.g.data_start}, {self.g.nblocks}))")
            return False
        if block in self.owner:
            self.errors.append(f"block {block} is used twice: by {self.owner[block]} and by {what}")
            return False
        self.owner[block] = what
        return True

    def _inode(self, ino: int, name: str | None) -> None:
        image, inode = self.image, self.image.inode(ino)
        who = self._describe(ino, name)
        if ino == 0:
            if inode.type != T_FREE:
                self.errors.append(f"inode 0 is never used, but has type {inode.type}")
            return
        if ino == ROOT_INO and inode.type != T_DIR:
            self.errors.append(f"inode 1 (the root directory) has type {inode.type} ({TYPE_NAMES.get(inode.type, 'unknown')}), not a directory")
            return
        if inode.type == T_FREE:
            return
        if inode.type not in TYPE_NAMES:
            self.errors.append(f"{who} has unknown type {inode.type}")
            return
        if inode.type == T_DIR and ino != ROOT_INO:
            self.errors.append(f"{who} is a directory; the only directory is inode 1")
            return
        if inode.size > MAX_FILE_SIZE:
            self.errors.append(f"{who} has size {inode.size}, larger than the largest file ({MAX_FILE_SIZE})")
        limit = _ceil(inode.size, BLOCK_SIZE)
        for label, block in (("indirect", inode.indirect), ("double-indirect", inode.dindirect)):
            if block:
                self._claim(block, f"{who}'s {label} block")
        if image._valid(inode.dindirect) and self.owner.get(inode.dindirect) == f"{who}'s double-indirect block":
            for m in range(NINDIRECT):
                middle = image._entry(inode.dindirect, m)
                if middle:
                    self._claim(middle, f"{who}'s indirect block {m} under its double-indirect block")
        past = []
        for index, block in image.mapped_blocks(ino):
            if self._claim(block, f"{who}, file block {index}") and index >= limit:
                past.append(index)
        if past:
            self.errors.append(
                f"{who} has size {inode.size} ({limit} blocks) but maps file block(s) {_ranges(past)} past its end"
            )

    def _directory(self) -> None:
        image = self.image
        root = image.inode(ROOT_INO)
        if root.type != T_DIR:
            return
        if root.size % DIRENT_SIZE:
            self.errors.append(f"the root directory's size {root.size} is not a multiple of {DIRENT_SIZE}")
        counts: dict[int, int] = {}
        seen: dict[str, int] = {}
        for slot in range(root.size // DIRENT_SIZE):
            ino, raw = image._dirent(root, slot)
            if not ino:
                continue
            name_raw = raw.split(b"\0", 1)[0]
            name = name_raw.decode("utf-8", "replace")
            where = f"directory slot {slot} ({name!r})"
            if b"\0" not in raw or not name_raw or b"/" in name_raw:
                self.errors.append(f"{where}: the name must be 1..{NAME_MAX} bytes, NUL-terminated, without '/'")
            if name in seen:
                self.errors.append(f"{where}: the name is also in slot {seen[name]}")
            seen.setdefault(name, slot)
            if not ROOT_INO < ino < self.g.ninodes:
                self.errors.append(f"{where} points to inode {ino}, which is not a file's (2..{self.g.ninodes - 1})")
                continue
            inode = image.inode(ino)
            if inode.type != T_FILE:
                self.errors.append(f"{where} points to inode {ino}, which is {TYPE_NAMES.get(inode.type, f'of unknown type {inode.type}')}")
                continue
            counts[ino] = counts.get(ino, 0) + 1
        for ino in range(ROOT_INO + 1, self.g.ninodes):
            inode = image.inode(ino)
            if inode.type != T_FILE:
                continue
            count = counts.get(ino, 0)
            if count and inode.nlink != count:
                self.errors.append(f"inode {ino} has nlink {inode.nlink}, but {count} directory entr{'y names' if count == 1 else 'ies name'} it")
            elif not count and inode.nlink:
                self.errors.append(f"inode {ino} (regular file, nlink {inode.nlink}, size {inode.size}) is in use but no directory entry names it")
            elif not count:
                self.warnings.append(f"inode {ino} (regular file, size {inode.size}) was unlinked but not freed (an orphan: still open at power-off?)")

    def _bitmap(self) -> None:
        image, g = self.image, self.g
        reserved_free = [b for b in range(g.data_start) if not image.used(b)]
        if reserved_free:
            self.errors.append(f"bitmap: metadata block(s) {_ranges(reserved_free)} marked free (blocks [0, {g.data_start}) are always in use)")
        leaked = [b for b in range(g.data_start, g.nblocks) if image.used(b) and b not in self.owner]
        if leaked:
            self.errors.append(f"bitmap: block(s) {_ranges(leaked)} marked in use, but no inode uses them (leaked)")
        for block in sorted(b for b in self.owner if not image.used(b)):
            self.errors.append(f"bitmap: block {block} is used by {self.owner[block]} but marked free")
        past = [b for b in range(g.nblocks, g.bitmap_blocks * BLOCK_SIZE * 8) if image.used(b)]
        if past:
            self.errors.append(f"bitmap: bit(s) {_ranges(past)} set, past the last block ({g.nblocks - 1})")


def _ranges(numbers: list[int]) -> str:
    """``3, 7-9, 12`` (at most 8 ranges, then how many more numbers)."""
    spans: list[list[int]] = []
    for number in sorted(numbers):
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans[:8])
    if len(spans) > 8:
        text += f" and {sum(b - a + 1 for a, b in spans[8:])} more"
    return text


def _capped(messages: list[str]) -> list[str]:
    if len(messages) <= MAX_MESSAGES:
        return messages
    return messages[:MAX_MESSAGES] + [f"... and {len(messages) - MAX_MESSAGES} more"]


def mkfs(path: Path | str, size: int | str = DEFAULT_SIZE, ninodes: int = DEFAULT_INODES,
         files: list[tuple[str, bytes]] = (), holes: bool = False) -> Image:  # fmt: skip
    """Make a fresh image at @p path holding @p files ((name, bytes) pairs); return it."""
    image = Image.create(size, ninodes)
    for name, data in files:
        image.add(name, data, holes)
    image.save(path)
    return image
