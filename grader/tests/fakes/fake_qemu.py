"""A stand-in for qemu-system-riscv64 in the grader's tests.

Usage: fake_qemu.py SCENARIO.json QEMU-ARGUMENTS...

SCENARIO.json holds {"calls": FILE, "pids": DIR, "default": BEHAVIOUR,
"by_config": {"<-m>/<-smp>": BEHAVIOUR}}. The fake appends its arguments to
FILE (one JSON list a line), then acts out the behaviour of its -m/-smp pair:

  serial_file  bytes to write to stdout (the serial console)
  stderr       text to write to stderr
  child        start a child process that sleeps (to check group kills)
  sleep        seconds to wait after the output
  hang         sleep forever after the output
  exit         exit status (default 0)
  disk         what to do to the disk image of -drive file=IMG (before the
               serial output), as a kernel would: {"write": {NAME: SPEC}}
               gives file NAME the bytes of content spec SPEC (mmfs.py),
               {"corrupt": "leak"} marks a free block in use, {"raw": [OFFSET,
               HEX]} overwrites bytes of the image

The pids of the fake and of its child are written to DIR.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mmgrade import mmfs  # noqa: E402


def option(args: list[str], name: str) -> str:
    """The value after option @p name in the QEMU arguments."""
    return args[args.index(name) + 1]


def disk_image(args: list[str]) -> str:
    """The image file of the -drive option (commas doubled in it, as QEMU takes them)."""
    value = option(args, "-drive")
    spec = value.replace(",,", "\0").split(",")[0]
    assert spec.startswith("file="), value
    return spec[len("file=") :].replace("\0", ",")


def act_on_disk(path: str, disk: dict) -> None:
    """Change the image at @p path as @p disk says (see the module's docstring)."""
    image = mmfs.Image.open(path)
    for name, spec in disk.get("write", {}).items():
        image.replace(name, mmfs.render(mmfs.parse_content(spec)))
    if disk.get("corrupt") == "leak":
        free = next(b for b in range(image.geometry.data_start, image.geometry.nblocks) if not image.used(b))
        image.set_used(free, True)
    if "raw" in disk:
        offset, data = disk["raw"]
        image.data[offset : offset + len(bytes.fromhex(data))] = bytes.fromhex(data)
    image.save(path)


def main() -> int:
    """Act out the scenario for these QEMU arguments."""
    scenario = json.load(open(sys.argv[1], encoding="utf-8"))
    args = sys.argv[2:]
    with open(scenario["calls"], "a", encoding="utf-8") as calls:
        calls.write(json.dumps(args) + "\n")
    key = f"{option(args, '-m')}/{option(args, '-smp')}"
    chapter = Path(option(args, "-kernel") or "").parent.name  # build/chN/kernel.elf
    by_config = scenario["by_config"]
    behaviour = by_config.get(f"{chapter}:{key}", by_config.get(key, scenario["default"]))
    pids = [os.getpid()]
    if behaviour.get("child"):
        pids.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"]).pid)
    with open(os.path.join(scenario["pids"], f"{os.getpid()}.pids"), "w", encoding="utf-8") as out:
        out.write(" ".join(map(str, pids)))
    if "disk" in behaviour:
        act_on_disk(disk_image(args), behaviour["disk"])
    if "serial_file" in behaviour:
        sys.stdout.buffer.write(open(behaviour["serial_file"], "rb").read())
        sys.stdout.flush()
    if "stderr" in behaviour:
        sys.stderr.write(behaviour["stderr"])
        sys.stderr.flush()
    time.sleep(behaviour.get("sleep", 0))
    while behaviour.get("hang"):
        time.sleep(60)
    return behaviour.get("exit", 0)


if __name__ == "__main__":
    sys.exit(main())
