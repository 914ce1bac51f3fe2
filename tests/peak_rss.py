"""Run ``python -m MODULE ARGS...`` and write its own peak memory to REPORT when it exits.

    python tests/peak_rss.py REPORT MODULE [ARGS...]

Linux keeps a process's ``ru_maxrss`` across fork and exec: a child forked from a large parent (the pytest
process after a few hundred tests, 1 GiB and more) reports the parent's resident size as its own peak (CI
measured 1,143 MiB for a CLI run that peaks at 703). ``VmHWM`` in /proc/self/status belongs to the address
space, which exec replaces, so it counts only this program; its own children (the isolated model loader)
are added through RUSAGE_CHILDREN, whose peaks start from this process's size, not the test runner's."""

import atexit
import json
import resource
import runpy
import sys


def _report(path: str) -> None:
    hwm = next((int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")), 0)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(path, "w") as fh:
        json.dump({"vmhwm_kib": hwm, "children_maxrss_kib": children}, fh)


if __name__ == "__main__":
    report, module, *args = sys.argv[1:]
    atexit.register(_report, report)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
