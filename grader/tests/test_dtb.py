"""Device-tree recipes (mmgrade/dtb.py) and the rubric's dtb key."""

import shutil
import subprocess

import pytest

from mmgrade import dtb
from mmgrade.rubric import RubricError, load

# The /memory node as dtc prints QEMU 7.2's virt device tree at -m 512M.
QEMU_DTS = """/dts-v1/;

/ {
	#address-cells = <0x02>;
	#size-cells = <0x02>;

	memory@80000000 {
		device_type = "memory";
		reg = <0x00 0x80000000 0x00 0x20000000>;
	};

	cpus {
	};
};
"""


def reg_ranges(source):
    """The (base, size) of each /memory node of @p source, in the order listed."""
    return [
        (int(m["base_hi"], 16) << 32 | int(m["base_lo"], 16), int(m["size_hi"], 16) << 32 | int(m["size_lo"], 16))
        for m in dtb.MEMORY_NODE_RE.finditer(source)
    ]


HOLES = [(0x98003000, 0x07FFD000), (0x8C000000, 0x07FFB000), (0x80000000, 0x08000000)]


def test_holes_splits_ram_highest_range_first():
    edited = dtb.holes(QEMU_DTS)
    assert reg_ranges(edited) == HOLES
    section = 4 << 20
    (high, _), (middle, middle_size), (low, low_size) = HOLES
    assert (low + low_size) % section == 0 and middle % section == 0  # the first hole: whole sections
    assert (middle + middle_size) % section and high % section  # the second: ragged edges
    assert "memory@98003000 {" in edited and "cpus {" in edited


@pytest.mark.parametrize("source", [QEMU_DTS.replace("memory@", "mem@"), dtb.holes(QEMU_DTS)])
def test_holes_wants_exactly_one_memory_node(source):
    with pytest.raises(dtb.DtbError, match="one /memory node"):
        dtb.holes(source)


def test_make_without_dtc_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(dtb.DtbError, match="device-tree-compiler"):
        dtb.make("qemu-system-riscv64", "512M", 2, "holes", tmp_path / "x.dtb")


def test_make_unknown_recipe(tmp_path):
    with pytest.raises(dtb.DtbError, match="no device-tree recipe"):
        dtb.make("qemu-system-riscv64", "512M", 2, "nope", tmp_path / "x.dtb")


def test_make_reports_a_failing_qemu(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/dtc")
    failed = subprocess.CompletedProcess([], 1, b"", b"qemu: bad option")
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: failed)
    with pytest.raises(dtb.DtbError, match="dumpdtb failed: qemu: bad option"):
        dtb.make("qemu-system-riscv64", "512M", 2, "holes", tmp_path / "x.dtb")


@pytest.mark.skipif(not (shutil.which("dtc") and shutil.which("qemu-system-riscv64")), reason="needs dtc and QEMU")
def test_make_for_real(tmp_path):
    out = dtb.make("qemu-system-riscv64", "512M", 2, "holes", tmp_path / "holes.dtb")
    source = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", str(out)], capture_output=True, text=True).stdout
    assert reg_ranges(source) == HOLES


def test_rubric_checks_the_recipe(tmp_path):
    text = """
[ch1]
title = "t"
configs = [{ name = "a", memory = "512M", smp = 2, dtb = "%s" }]
"""
    path = tmp_path / "rubric.toml"
    path.write_text(text % "holes")
    assert load(path)[1].configs[0].dtb == "holes"
    path.write_text(text % "hole")
    with pytest.raises(RubricError, match="no device-tree recipe 'hole'"):
        load(path)
