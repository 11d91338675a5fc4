"""Start a distributed training run on this machine: scheduler, servers and workers.

Usage::

    transferlearn launch -n 2 -s 1 -- transferlearn train-base --out runs/base

Every process gets the ``DMLC_*`` environment of MXNet's parameter-server KVStore. The
workers run the given command (``--kvstore dist_sync`` is added when the command has no
``--kvstore``); the scheduler and the servers are plain ``import mxnet`` processes, which
MXNet turns into a server or scheduler from ``DMLC_ROLE``. Rank 0's output is shown as it
comes; the other workers send theirs to log files once they know their rank, and the last
line of a failing worker's log is shown. The exit status is 0, or the first failing worker's.

On a real cluster, start the same processes on each host with the same variables (see the
README): ``DMLC_PS_ROOT_URI``/``DMLC_PS_ROOT_PORT`` (the scheduler's address),
``DMLC_NUM_SERVER``, ``DMLC_NUM_WORKER`` and ``DMLC_ROLE``.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def cluster_env(role: str, host: str, port: int, num_workers: int, num_servers: int,
                threads: int | None = None) -> dict:
    """The environment of one process of the run (on top of the current one)."""
    env = {**os.environ, "DMLC_ROLE": role, "DMLC_PS_ROOT_URI": host,
           "DMLC_PS_ROOT_PORT": str(port), "DMLC_NUM_WORKER": str(num_workers),
           "DMLC_NUM_SERVER": str(num_servers), "DMLC_NODE_HOST": host}
    if threads is not None and "OMP_NUM_THREADS" not in os.environ:
        env["OMP_NUM_THREADS"] = str(threads)  # the cores are shared by the workers
    return env


def worker_command(command: list[str]) -> list[str]:
    """`command`, with ``--kvstore dist_sync`` added if it does not choose a kvstore."""
    if any(arg == "--kvstore" or arg.startswith("--kvstore=") for arg in command):
        return list(command)
    return [*command, "--kvstore", "dist_sync"]


def _stop(procs: list, grace: float = 5.0) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + grace
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _last_line(path: Path) -> str:
    lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    return lines[-1] if lines else "(no output)"


def launch(command: list[str], num_workers: int = 2, num_servers: int = 1,
           host: str = "127.0.0.1", port: int | None = None, log_dir=None,
           timeout: float | None = None) -> int:
    """Run `command` as `num_workers` workers with `num_servers` servers; returns the status."""
    port = port or free_port(host)
    threads = max(1, (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else os.cpu_count() or 1) // num_workers)
    env = lambda role: cluster_env(role, host, port, num_workers, num_servers,  # noqa: E731
                                   threads if role == "worker" else 1)
    service = [sys.executable, "-c", "import mxnet"]
    log_dir = Path(log_dir or tempfile.mkdtemp(prefix="transferlearn-launch-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    procs = [subprocess.Popen(service, env=env("scheduler"))]
    procs += [subprocess.Popen(service, env=env("server")) for _ in range(num_servers)]
    workers = []
    logs = [log_dir / f"worker-{i}.log" for i in range(num_workers)]
    try:
        for log in logs:
            workers.append(subprocess.Popen(worker_command(command), env={
                **env("worker"), "TRANSFERLEARN_WORKER_LOG": str(log)}))
        return _wait(workers, procs, logs, timeout)
    except KeyboardInterrupt:
        print("interrupted: stopping the workers and servers", file=sys.stderr)
        return 130
    finally:
        _stop(workers + procs)


def _wait(workers, services, logs, timeout) -> int:
    deadline = None if timeout is None else time.monotonic() + timeout
    while any(w.poll() is None for w in workers):
        if any(w.poll() not in (None, 0) for w in workers):
            break
        if deadline is not None and time.monotonic() > deadline:
            print(f"error: the run took longer than {timeout:.0f} s; stopped", file=sys.stderr)
            return 124
        time.sleep(0.1)
    grace = time.monotonic() + 5  # a bad input stops every worker: let them all report
    while any(w.poll() is None for w in workers) and time.monotonic() < grace:
        time.sleep(0.1)
    failed = [i for i, w in enumerate(workers) if w.returncode not in (None, 0)]
    if failed:
        return _failure(workers, logs, failed)
    for proc in services:  # they exit once every worker has finished
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)
    return 0


def _failure(workers, logs, failed: list) -> int:
    """Exit status of the first failure; shows a log line unless its error was shown live."""
    live = [i for i in failed if not logs[i].exists()]  # rank 0, or failed before ranks
    index = (live or failed)[0]
    code = workers[index].returncode
    if not live:
        print(f"error: a worker exited with status {code}: {_last_line(logs[index])} "
              f"(full log: {logs[index]})", file=sys.stderr)
    return code if code > 0 else 1


def _at_least(low, kind=int):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not value >= low or value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be a number >= {low}, got {text!r}")
        return value

    return parse


def _port(text: str) -> int:
    value = _at_least(1)(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"must be a port in [1, 65535], got {text!r}")
    return value


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog or "transferlearn launch",
                                description="Run a training script as a distributed MXNet job "
                                            "on this machine.",
                                epilog="example: transferlearn launch -n 2 -- python "
                                       "scripts/train_base.py --out runs/base")
    p.add_argument("-n", "--num-workers", type=_at_least(1), default=2)
    p.add_argument("-s", "--num-servers", type=_at_least(1), default=1)
    p.add_argument("--host", default="127.0.0.1", help="address the scheduler listens on")
    p.add_argument("--port", type=_port, default=None, help="scheduler port (default: a free one)")
    p.add_argument("--log-dir", default=None, help="where workers 1.. write their output")
    p.add_argument("--timeout", type=_at_least(0.001, float), default=None,
                   help="seconds before stopping all")
    p.add_argument("command", nargs=argparse.REMAINDER,
                   help="-- followed by the worker command")
    return p


def main(argv=None, prog: str | None = None) -> int:
    from .common import one_line_errors

    parser = build_parser(prog)
    one_line_errors(parser)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the worker command after --, e.g. -- python scripts/train_base.py")
    if args.num_workers < 1 or args.num_servers < 1:
        parser.error("--num-workers and --num-servers must be at least 1")
    return launch(command, args.num_workers, args.num_servers, args.host, args.port,
                  args.log_dir, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
