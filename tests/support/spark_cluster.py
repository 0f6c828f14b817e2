"""A real Spark standalone cluster on loopback: one master and N workers started with Spark's own
``spark-class`` launcher from the pyspark package, stopped (with their executors) when the test ends."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"


@dataclass
class Cluster:
    master_url: str
    webui: str
    logs: Path
    pids: list[int] = field(default_factory=list)  # master and workers (executors are the workers' children)

    def alive_workers(self) -> int:
        with urllib.request.urlopen(f"{self.webui}/json/", timeout=5) as resp:  # loopback only
            return int(json.load(resp).get("aliveworkers", 0))

    def log_tail(self) -> str:
        parts = []
        for log in sorted(self.logs.glob("*.log")):
            parts.append(f"--- {log.name}\n" + log.read_text(errors="replace")[-3000:])
        return "\n".join(parts)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def why_not() -> str | None:
    """Why a standalone cluster cannot start here, or None."""
    try:
        import pyspark
    except ImportError:
        return "pyspark is not installed (extra `spark`)"
    if shutil.which("java") is None:
        return "java (17) is not on PATH"
    if not (Path(pyspark.__file__).parent / "bin" / "spark-class").exists():
        return "pyspark has no bin/spark-class launcher"
    return None


@contextmanager
def standalone_cluster(root: Path, workers: int = 2, cores: int = 1, memory: str = "1g",
                       timeout: float = 120.0) -> Iterator[Cluster]:
    import pyspark

    home = Path(pyspark.__file__).parent
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": HOST, "SPARK_LOCAL_DIRS": str(root / "tmp"),
           "SPARK_WORKER_DIR": str(root / "work"), "SPARK_NO_DAEMONIZE": "1"}
    logs = root / "logs"
    for d in (logs, root / "tmp", root / "work"):
        d.mkdir(parents=True, exist_ok=True)
    port, ui = _free_port(), _free_port()
    cluster = Cluster(f"spark://{HOST}:{port}", f"http://{HOST}:{ui}", logs)
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> None:
        out = open(logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process below
        procs.append(subprocess.Popen([str(home / "bin" / "spark-class"), *args], env=env, stdout=out,
                                      stderr=subprocess.STDOUT, start_new_session=True))
        cluster.pids.append(procs[-1].pid)

    try:
        start("master", "org.apache.spark.deploy.master.Master", "--host", HOST, "--port", str(port),
              "--webui-port", str(ui))
        for i in range(workers):
            start(f"worker{i}", "org.apache.spark.deploy.worker.Worker", "--host", HOST, "--cores", str(cores),
                  "--memory", memory, "--webui-port", str(_free_port()), "--work-dir", str(root / "work" / str(i)),
                  cluster.master_url)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if cluster.alive_workers() == workers:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError(f"Spark standalone cluster did not come up:\n{cluster.log_tail()}")
            time.sleep(0.5)
        yield cluster
    finally:
        for p in procs:  # each launcher leads its own process group: executors go with their worker
            with suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
