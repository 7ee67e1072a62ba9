"""A real single-node Slurm for the tests: Debian's slurmctld and slurmd (22.05) on
127.0.0.1, with their own config, ports, state and logs under a temp folder, started
for the test module and stopped after it. Authentication is MUNGE's (Debian's munge
package makes the key): a running munged is used, else one is started and stopped.

Needs root (slurmd runs jobs as their user; the suite runs as root in CI) and the
packages scripts/test.sh installs. If Slurm cannot start, the test using it fails."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MUNGE_SOCKET = Path("/run/munge/munge.socket.2")
PARTITION = "toolkit"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _memory_mb() -> int:
    """The node's memory as slurmd will find it (jobs ask for GBs per CPU)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20 * 9 // 10


def _config(root: Path, node: str) -> str:
    return "\n".join(
        [
            "ClusterName=toolkit-tests",
            f"SlurmctldHost={node}(127.0.0.1)",
            f"SlurmctldPort={_free_port()}",
            f"SlurmdPort={_free_port()}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            f"StateSaveLocation={root / 'state'}",
            f"SlurmdSpoolDir={root / 'spool'}",
            f"SlurmctldPidFile={root / 'slurmctld.pid'}",
            f"SlurmdPidFile={root / 'slurmd.pid'}",
            f"SlurmctldLogFile={root / 'slurmctld.log'}",
            f"SlurmdLogFile={root / 'slurmd.log'}",
            "ProctrackType=proctrack/linuxproc",  # no cgroups in a container
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core",
            "MpiDefault=none",
            "ReturnToService=2",
            "JobCompType=jobcomp/none",
            "AccountingStorageType=accounting_storage/none",
            f"NodeName={node} NodeAddr=127.0.0.1 CPUs={os.cpu_count() or 1} "
            f"RealMemory={_memory_mb()} State=UNKNOWN",
            f"PartitionName={PARTITION} Nodes={node} Default=YES MaxTime=INFINITE State=UP",
            "",
        ]
    )


def _start_munge() -> subprocess.Popen[bytes] | None:
    """None if a munged already answers; else a foreground munged as the munge user."""
    if subprocess.run(["munge", "-n"], capture_output=True, check=False).returncode == 0:
        return None
    MUNGE_SOCKET.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["chown", "munge:munge", str(MUNGE_SOCKET.parent)], check=True)
    daemon = subprocess.Popen(
        ["runuser", "-u", "munge", "--", "/usr/sbin/munged", "--foreground"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait(lambda: subprocess.run(["munge", "-n"], capture_output=True).returncode == 0, "munged")
    return daemon


def _wait(ready: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up in {timeout:.0f} s")
        time.sleep(0.5)


def _stop(pid_file: Path) -> None:
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError):
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)


@contextmanager
def slurm_cluster(root: Path) -> Iterator[dict[str, str]]:
    """Start the cluster; yields the environment its clients need (SLURM_CONF)."""
    for sub in ("state", "spool"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    node = socket.gethostname().split(".")[0]
    conf = root / "slurm.conf"
    conf.write_text(_config(root, node))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    munge = _start_munge()
    try:
        subprocess.run(["/usr/sbin/slurmctld", "-f", str(conf)], env=env, check=True)
        subprocess.run(["/usr/sbin/slurmd", "-f", str(conf), "-N", node], env=env, check=True)

        def idle() -> bool:
            shown = subprocess.run(
                ["sinfo", "--noheader", "--format", "%t"], env=env, capture_output=True,
                text=True, check=False,
            )  # fmt: skip
            return shown.stdout.strip() == "idle"

        _wait(idle, "the Slurm node")
        yield {"SLURM_CONF": str(conf)}
    finally:
        _stop(root / "slurmd.pid")
        _stop(root / "slurmctld.pid")
        if munge is not None:
            munge.terminate()
            munge.wait(timeout=30)
