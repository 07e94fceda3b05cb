"""Sweeps on a Dask.distributed cluster (extra `dask`; `make test-cluster`): a scheduler and two workers started
here as separate processes on 127.0.0.1 (this environment allows no other network target), a sweep sent to them
with `results.cluster`, one worker killed mid-sweep, and every socket they open checked to be on loopback."""

from __future__ import annotations

import contextlib
import importlib.util
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

# the Dask tests: `make test-cluster` (deselected by `make test`; skipped where the `dask` extra is missing)
needs_dask = pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None, reason="the `dask` extra is not installed (make test-cluster installs it)"
)

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


def environment() -> dict[str, str]:
    """This checkout first on the path, for the sweep and for the workers that import `sim` to run its jobs."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    return env


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Signal a process started in its own session, with its children (a worker's nanny and worker)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


class LocalCluster:
    """`dask scheduler` and `dask worker`s as subprocesses, every address (the HTTP endpoints too) on 127.0.0.1."""

    def __init__(self, folder: Path, n_workers: int = 2):
        self.folder, self.env = folder, environment()
        folder.mkdir(parents=True, exist_ok=True)
        scheduler_file = folder / "scheduler.json"
        self.scheduler = self._start(
            "scheduler",
            ["scheduler", "--host", HOST, "--port", "0", "--dashboard-address", f"{HOST}:0", "--scheduler-file", str(scheduler_file)],
        )
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() or not scheduler_file.read_text().strip():
            assert self.scheduler.poll() is None, (folder / "scheduler.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the scheduler did not start within 60 s"
            time.sleep(0.1)
        time.sleep(0.2)  # the file is written whole, but give it a moment
        self.address = json.loads(scheduler_file.read_text())["address"]
        self.workers = {
            f"w{i}": self._start(
                f"w{i}",
                [
                    "worker",
                    self.address,
                    "--host",
                    HOST,
                    "--dashboard-address",
                    f"{HOST}:0",  # --no-dashboard alone still serves /health on 0.0.0.0
                    "--nthreads",
                    "1",
                    "--nworkers",
                    "1",
                    "--name",
                    f"w{i}",
                    "--local-directory",
                    str(folder / f"w{i}-space"),
                ],
            )
            for i in range(1, n_workers + 1)
        }
        self.names = self.wait_for_workers(n_workers)  # address -> name

    def _start(self, name: str, args: list[str]) -> subprocess.Popen:
        with open(self.folder / f"{name}.log", "w") as log:  # the process keeps its own copy of the file
            return subprocess.Popen(
                [sys.executable, "-m", "dask", *args],
                env=self.env,
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def client(self):
        from distributed import Client

        return Client(self.address, timeout="20s")

    def wait_for_workers(self, n: int) -> dict[str, str]:
        with self.client() as client:
            client.wait_for_workers(n, timeout=90)
            return {address: str(w["name"]) for address, w in client.scheduler_info(n_workers=-1)["workers"].items()}

    def pids(self) -> list[int]:
        """The scheduler's and the workers' processes, their children included."""
        import psutil

        pids = []
        for proc in [self.scheduler, *self.workers.values()]:
            with contextlib.suppress(psutil.NoSuchProcess):
                parent = psutil.Process(proc.pid)
                pids += [parent.pid, *(c.pid for c in parent.children(recursive=True))]
        return pids

    def close(self) -> None:
        for proc in [*self.workers.values(), self.scheduler]:
            stop(proc)


@contextlib.contextmanager
def local_cluster(folder: Path) -> Iterator[LocalCluster]:
    cluster = LocalCluster(folder)
    try:
        yield cluster
    finally:
        cluster.close()


def sweep_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "sim", *args]


def launch(folder: Path, *args: str, env: dict[str, str]) -> tuple[subprocess.Popen, Path, Path]:
    """`python -m sim ARGS` in the background, its output to files (a pipe nobody reads could fill and stall it)."""
    out, err = folder / "sweep.out", folder / "sweep.err"
    with open(out, "w") as o, open(err, "w") as e:
        proc = subprocess.Popen(sweep_command(*args), cwd=folder, env=env, stdout=o, stderr=e, start_new_session=True)
    return proc, out, err


def sockets(pids: list[int]) -> list[tuple[int, str, str, int, str]]:
    """(pid, status, local address, local port, remote address) of every TCP and UDP socket the processes hold."""
    import psutil

    found = []
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            conns = proc.net_connections(kind="inet") if hasattr(proc, "net_connections") else proc.connections(kind="inet")
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
        for c in conns:
            remote = c.raddr.ip if c.raddr else ""
            found.append((pid, c.status, c.laddr.ip, c.laddr.port, remote))
    return found


def listening_by_ss(pids: list[int]) -> list[str]:
    """`ss -ltnpH` lines (listening TCP sockets) of the processes, as a second opinion."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if any(f"pid={pid}," in line for pid in pids)]


def loopback(ip: str) -> bool:
    return ipaddress.ip_address(ip.split("%")[0]).is_loopback


def only_sweep(results: Path, experiment: str) -> Path:
    folders = sorted((results / experiment).iterdir())
    assert len(folders) == 1, folders
    return folders[0]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[LocalCluster]:
    with local_cluster(tmp_path_factory.mktemp("cluster")) as c:
        yield c


@pytest.fixture(scope="module")
def smoke_on_cluster(cluster, tmp_path_factory):
    """The smoke sweep on the two workers, with every socket of the scheduler, the workers and the sweep sampled as it runs."""
    results = tmp_path_factory.mktemp("results")
    proc, out, err = launch(
        results, "+experiment=smoke", f"results.cluster={cluster.address}", f"results.uri={results}", env=cluster.env
    )
    seen, listening = set(), set()
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            pids = [*cluster.pids(), proc.pid]
            seen.update(sockets(pids))
            if shutil.which("ss"):
                listening.update(listening_by_ss(pids))
            time.sleep(0.2)
    finally:
        stop(proc, signal.SIGKILL)
    return results, proc.returncode, out.read_text(), err.read_text(), seen, listening, proc.pid


@pytest.mark.cluster
@needs_dask
def test_sweep_runs_on_both_workers_and_lands_in_results_uri(cluster, smoke_on_cluster):
    results, code, out, err, *_ = smoke_on_cluster
    assert code == 0, err[-3000:]
    assert "8 of 8 runs ok" in out
    assert f"jobs go to the Dask cluster at {cluster.address}: 2 workers" in out + err
    root = only_sweep(results, "smoke")
    summary = pd.read_parquet(root / "summary.parquet")
    assert sorted(summary["run"]) == list(range(8)) and (summary["status"] == "ok").all()
    assert set(summary["worker"]) == set(cluster.names), "runs are spread over both workers"
    for n in range(8):  # each job wrote its own partitions
        for table in ("orders", "utilization", "summary"):
            assert pq.read_metadata(root / table / f"run={n}" / f"{table}.parquet").num_rows > 0
    assert json.loads((root / "sweep.json").read_text())["finished"]


@pytest.mark.cluster
@needs_dask
def test_every_socket_of_the_cluster_and_the_sweep_is_on_loopback(cluster, smoke_on_cluster):
    *_, seen, listening, sweep_pid = smoke_on_cluster
    listen = [s for s in seen if s[1] == "LISTEN"]
    # the scheduler: its TCP server and HTTP endpoints; each worker: its nanny, its server and HTTP endpoints
    assert len({s[0] for s in listen}) >= 5 and len(listen) >= 2 + 3 * 2, listen
    assert not [s for s in listen if s[0] == sweep_pid], "the sweep's client only connects"
    assert any(s[0] == sweep_pid for s in seen), "the sweep's connections to the scheduler were seen"
    outside = [s for s in seen if not loopback(s[2]) or (s[4] and not loopback(s[4]))]
    assert not outside, f"sockets off loopback: {outside}"
    if listening:  # ss agrees: every listening address of these processes is 127.0.0.1
        assert all(line.split()[3].startswith(f"{HOST}:") for line in listening), listening


@pytest.mark.cluster
@needs_dask
def test_killing_a_worker_mid_sweep_still_finishes_every_run_and_one_worker_gets_the_jobs(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    with local_cluster(tmp_path / "cluster") as cluster:
        args = [
            "-m",
            "seed=range(1,9)",
            "demand.orders_per_day=40000",
            "city.zones_x=4",
            "city.zones_y=4",
            "city.stations_x=2",
            "city.stations_y=2",
            "output.orders=false",
            f"results.cluster={cluster.address}",
            f"results.uri={results}",
        ]
        proc, out_file, err_file = launch(tmp_path, *args, env=cluster.env)
        try:
            summaries = "adhoc/*/summary/run=*/summary.parquet"
            deadline = time.monotonic() + 120
            while not list(results.glob(summaries)):  # the first run lands
                assert proc.poll() is None, err_file.read_text()[-3000:]
                assert time.monotonic() < deadline, "no run landed within 120 s"
                time.sleep(0.05)
            with cluster.client() as client:  # the worker to kill: one with a job in hand
                deadline = time.monotonic() + 30
                while not (busy := [a for a, tasks in client.processing().items() if tasks]):
                    assert time.monotonic() < deadline, "no worker is running a job"
                    time.sleep(0.05)
            victim = busy[0]
            stop(cluster.workers[cluster.names[victim]], signal.SIGKILL)  # nanny and worker at once, as a lost node
            done_at_kill = {int(p.parent.name.split("=")[1]) for p in results.glob(summaries)}
            proc.wait(timeout=240)
            # a cluster of one worker still gets the jobs (joblib runs a call with one worker in the calling process)
            alone = subprocess.run(
                sweep_command("+experiment=smoke", "seed=1", f"results.cluster={cluster.address}", f"results.uri={results}"),
                cwd=tmp_path,
                env=cluster.env,
                capture_output=True,
                text=True,
                timeout=240,
            )
        finally:
            stop(proc, signal.SIGKILL)
    out, err = out_file.read_text(), err_file.read_text()
    assert proc.returncode == 0, err[-3000:]
    assert "8 of 8 runs ok" in out
    assert len(done_at_kill) < 8, "the worker was killed after the sweep's last run"
    summary = pd.read_parquet(only_sweep(results, "adhoc") / "summary.parquet")
    assert sorted(summary["run"]) == list(range(8)) and (summary["status"] == "ok").all()
    survivor = next(a for a in cluster.names if a != victim)
    by_victim = set(summary.loc[summary["worker"] == victim, "run"])
    assert by_victim <= done_at_kill, "the killed worker wrote nothing after its death"
    assert set(summary.loc[~summary["run"].isin(done_at_kill), "worker"]) == {survivor}, "the rest, its job included, ran on the other"
    for path in (results / "adhoc").rglob("*.parquet"):
        pq.read_metadata(path)  # every visible Parquet file is whole
    assert alone.returncode == 0, alone.stderr[-3000:]
    assert set(pd.read_parquet(only_sweep(results, "smoke") / "summary.parquet")["worker"]) == {survivor}


@pytest.mark.cluster
@needs_dask
def test_a_cluster_that_does_not_answer_stops_the_sweep_with_one_line(tmp_path):
    proc = subprocess.run(
        sweep_command("+experiment=smoke", f"results.cluster=tcp://{HOST}:9", f"results.uri={tmp_path}"),
        cwd=tmp_path,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        .splitlines()[-1]
        .startswith("error: config key 'results.cluster' has bad value 'tcp://127.0.0.1:9': no Dask")
    )
    assert not (tmp_path / "smoke").exists()


# Ray (`make test-ray`). A local `ray.init()` (Ray 2.60) listens on 0.0.0.0 and on the interface address (GCS, raylet,
# workers, agents), and it turns a 127.0.0.1 node address into the interface's: it cannot be kept on loopback, so
# no test starts Ray. The Ray launcher's own code runs here with a stand-in for `ray`: its configuration reaches
# ray.init and ray.remote, and its job function runs each job from pickled arguments, as a Ray worker would.
needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is None or importlib.util.find_spec("ray") is None,
    reason="the `ray` extra is not installed (make test-ray installs it)",
)

STAND_IN = '''
"""`python -m sim ARGS` with the Ray launcher's `ray` replaced by a stand-in that starts nothing."""
import json, os, sys

import cloudpickle
from hydra_plugins.hydra_ray_launcher import _core, _launcher_util

calls = []


class Remote:
    def __init__(self, fn, options):
        self.fn, self.options = fn, options

    def remote(self, **kwargs):
        calls.append({"remote": self.options})
        fn, kwargs = cloudpickle.loads(cloudpickle.dumps((self.fn, kwargs)))  # shipped as to a Ray worker
        return lambda: fn(**kwargs)


class Ray:
    started = False

    def is_initialized(self):
        return self.started

    def init(self, **kwargs):
        calls.append({"init": kwargs})
        self.started = True

    def remote(self, *args, **options):
        return Remote(args[0], {}) if args else (lambda fn: Remote(fn, options))

    def get(self, ref):
        return ref()


_core.ray = _launcher_util.ray = Ray()
sys.argv = ["sim", *sys.argv[1:]]
from sim.cli import main

try:
    main()
finally:
    with open(os.environ["RAY_CALLS"], "w") as f:
        json.dump(calls, f)
'''


@needs_ray
def test_ray_launcher_config_and_job_function_without_starting_ray(tmp_path):
    script = tmp_path / "ray_stand_in.py"
    script.write_text(STAND_IN)
    env = environment() | {"RAY_CALLS": str(tmp_path / "calls.json")}
    proc = subprocess.run(
        [
            sys.executable,
            str(script),
            "+experiment=smoke",
            "seed=1",
            "hydra/launcher=ray",
            "+hydra.launcher.ray.init.num_cpus=2",
            "+hydra.launcher.ray.remote.num_cpus=1",
            f"results.uri={tmp_path}",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "4 of 4 runs ok" in proc.stdout
    calls = json.loads((tmp_path / "calls.json").read_text())
    assert calls[0] == {"init": {"address": None, "num_cpus": 2, "object_store_memory": 78643200}}
    assert calls[1:] == [{"remote": {"num_cpus": 1}}] * 4
    summary = pd.read_parquet(only_sweep(tmp_path, "smoke") / "summary.parquet")
    assert sorted(summary["run"]) == [0, 1, 2, 3] and (summary["status"] == "ok").all()
    assert summary["worker"].str.fullmatch(r"[^:]+:\d+").all()  # host:pid off Dask
