"""Run a command and record the peak memory of its whole process tree.

    python3 treemem.py OUT -- COMMAND [ARG...]

GNU time's %M is the peak RSS of the largest single process of the tree, which says little about
Ansible (a worker process per fork) or the raw OpenSSH floor (an ssh client per host). This samples
the tree every 0.1 s for 2 s, then every 0.25 s, and writes to OUT the peak of the sum of its
processes' PSS (proportional set size: a page shared by k processes counts 1/k in each, so forked
workers that share their parent's pages are not counted k times), in KiB, and the number of
processes at that peak.

The sampler makes itself a child subreaper, so a process that daemonizes (an SSH ControlPersist
master forks into the background) stays in the tree and is counted. It exits with the command's
exit status once the command itself has exited; orphans still running then (ControlPersist
masters) are left to the caller, which ends them.

Sampling misses peaks shorter than the interval. A sample costs CPU on the cores the benchmark
measures (a listing of /proc, the parent of each new process, the PSS of the tree's): hence the
intervals, the parents kept from one sample to the next, and the sampler runs niced, so the
measured processes come first when the cores are busy.
"""

import ctypes
import os
import subprocess
import sys
import time

# Fast at first (relayctl's runs take well under a second), then slower to cost less CPU.
FAST_INTERVAL, FAST_FOR, INTERVAL = 0.1, 2.0, 0.25
PR_SET_CHILD_SUBREAPER = 36


# pid -> ppid of every live process. A process's parent is read when it first shows up, and again
# only once that parent is gone (an orphan is reparented to us, the subreaper): a sample then costs
# a listing of /proc and the stat of new processes, not of the ~1000 the lab runs at 50 relays (a
# full walk took tens of ms there, on the cores being measured).
PARENTS = {}


def read_parent(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the ppid follows the last ')'.
    return int(stat[stat.rfind(b")") + 2 :].split()[1])


def children_map():
    alive = {int(entry) for entry in os.listdir("/proc") if entry.isdigit()}
    for pid in [p for p in PARENTS if p not in alive]:
        del PARENTS[pid]
    for pid in alive:
        ppid = PARENTS.get(pid)
        if ppid is None or (ppid not in alive and ppid != 0):
            ppid = read_parent(pid)
            if ppid is not None:
                PARENTS[pid] = ppid
    kids = {}
    for pid, ppid in PARENTS.items():
        kids.setdefault(ppid, []).append(pid)
    return kids


def tree_pss(root):
    """PSS sum and count of root's descendants (root itself excluded)."""
    kids = children_map()
    total, count, todo = 0, 0, list(kids.get(root, ()))
    while todo:
        pid = todo.pop()
        todo.extend(kids.get(pid, ()))
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
                for line in f:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1])
                        count += 1
                        break
        except OSError:
            continue  # exited meanwhile, or a zombie
    return total, count


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit("usage: treemem.py OUT -- COMMAND [ARG...]")
    out, command = sys.argv[1], sys.argv[3:]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    child = subprocess.Popen(command)
    os.nice(10)  # after the fork: the command keeps our priority
    me, start = os.getpid(), time.monotonic()
    peak, peak_count = 0, 0
    while child.poll() is None:
        # Our descendants, not the child's: orphans reparented to us stay counted.
        total, count = tree_pss(me)
        if total > peak:
            peak, peak_count = total, count
        time.sleep(FAST_INTERVAL if time.monotonic() - start < FAST_FOR else INTERVAL)
    with open(out, "w", encoding="ascii") as f:
        f.write(f"{peak} {peak_count}\n")
    sys.exit(child.returncode if child.returncode >= 0 else 128 - child.returncode)


if __name__ == "__main__":
    main()
