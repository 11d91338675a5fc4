"""The distributed launcher's worker command (the runs on loopback are in
tests/integration/test_distributed.py)."""
from transferlearn.cli import launch


def test_worker_command_adds_the_kvstore_only_when_missing():
    assert launch.worker_command(["python", "t.py"]) == ["python", "t.py", "--kvstore",
                                                         "dist_sync"]
    kept = ["python", "t.py", "--kvstore", "dist_async"]
    assert launch.worker_command(kept) == kept
    env = launch.cluster_env("server", "127.0.0.1", 9000, 3, 2)
    assert (env["DMLC_ROLE"], env["DMLC_NUM_WORKER"], env["DMLC_NUM_SERVER"],
            env["DMLC_PS_ROOT_PORT"]) == ("server", "3", "2", "9000")
