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

The pids of the fake and of its child are written to DIR.
"""

import json
import os
import subprocess
import sys
import time


def option(args: list[str], name: str) -> str:
    """The value after option @p name in the QEMU arguments."""
    return args[args.index(name) + 1]


def main() -> int:
    """Act out the scenario for these QEMU arguments."""
    scenario = json.load(open(sys.argv[1], encoding="utf-8"))
    args = sys.argv[2:]
    with open(scenario["calls"], "a", encoding="utf-8") as calls:
        calls.write(json.dumps(args) + "\n")
    key = f"{option(args, '-m')}/{option(args, '-smp')}"
    behaviour = scenario["by_config"].get(key, scenario["default"])
    pids = [os.getpid()]
    if behaviour.get("child"):
        pids.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"]).pid)
    with open(os.path.join(scenario["pids"], f"{os.getpid()}.pids"), "w", encoding="utf-8") as out:
        out.write(" ".join(map(str, pids)))
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
