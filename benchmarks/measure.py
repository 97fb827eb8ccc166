"""Timing, percentiles, sizes and peak memory, the same way for every figure."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO


def percentile(values: Sequence[float], percent: float) -> float:
    """Nearest-rank percentile (the value below which `percent` % of the values fall)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * percent // 100))  # ceil without floats drifting
    return ordered[int(rank) - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(seconds, 50) * 1000, 1),
        "p95_ms": round(percentile(seconds, 95) * 1000, 1),
        "n": len(seconds),
    }


def folder_mb(path: Path) -> float:
    total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return round(total / 2**20, 2)


def peak_rss_mb(pid: int | str = "self") -> float:
    """The process's peak resident memory so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_with_peak(command: Sequence[str], env: dict[str, str], timeout: float = 3600) -> Run:
    """Run a command to its end: wall time and the child's own peak RSS (from os.wait4)."""
    started = time.perf_counter()
    with (
        open(os.devnull, "rb") as stdin,
        _capture() as out,
        _capture() as err,
    ):
        process = subprocess.Popen(list(command), env=env, stdin=stdin, stdout=out, stderr=err)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            seconds,
            round(usage.ru_maxrss / 1024, 1),
            process.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )


def _capture() -> IO[bytes]:
    import tempfile

    return tempfile.TemporaryFile()
