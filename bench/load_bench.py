"""Load benchmark: thousands of phones on one Plenary process, beside bare python-socketio.

Each run starts `plenary serve` (a fresh SQLite file) in its own process, holds the
scenario's clients from one Node process (bench/load/loadgen.mjs), posts notes at the
scenario's rates and moves the stage; then does the same against a bare python-socketio
broadcast server (bench/baseline_server.py) with the same clients. On a machine with
two cores or more the server is pinned to core 0 and the load generator to core 1.

    .venv/bin/python bench/load_bench.py --scenario conference --runs 3

Scenarios: smoke (2 x 3 phones, seconds), burst (100 x 10, 500 notes/s), seed (8
tables x 9 phones + 1 dashboard), conference (500 x 10 + 20 dashboards: 100 notes/s for
60 s, three stage moves, then a 500 notes/s burst). Prints medians over the runs and
their ratios to the baseline and to the targets (issue 11). `npm ci --prefix bench/load`
first (the README says so).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
LOAD = ROOT / "bench" / "load"
TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Scenario:
    tables: int
    phones: int
    dashboards: int
    steps: list[dict[str, Any]]


SCENARIOS = {
    "smoke": Scenario(2, 3, 1, [{"rate": 20, "seconds": 2}, {"moves": 1}]),
    # The conference's join storm alone (joins and memory, quickly): all in, then stop.
    "joins": Scenario(500, 10, 20, []),
    "burst": Scenario(100, 10, 2, [{"rate": 100, "seconds": 5}, {"moves": 1},
                                   {"rate": 500, "seconds": 10}]),
    "seed": Scenario(8, 9, 1, [{"rate": 100, "seconds": 30}, {"moves": 3}]),
    # Last, offered more than one process takes: what it takes is its saturation.
    "conference": Scenario(500, 10, 20, [{"rate": 100, "seconds": 60}, {"moves": 3},
                                         {"rate": 500, "seconds": 10},
                                         {"rate": 1500, "seconds": 10}]),
    # Issue 12: 10,000 phones at 200 notes/s, on one process and then on two.
    "scaleout": Scenario(1000, 10, 20, [{"rate": 200, "seconds": 60}, {"moves": 3}]),
}

#: Issue 11's targets: (what, limit, lower is better).
TARGETS = {
    "ack_p99@100": 50.0, "peer_p99@100": 100.0, "ack_p99@500": 250.0,
    "advance_p99": 1000.0, "move_commit": 200.0, "kb_per_connection": 50.0,
    "join_seconds": 10.0,
    # Higher is better: the notes a second one process takes when offered 1,500.
    "throughput@1500": 1000.0,
}


def pinned(core: int) -> list[str]:
    """A command prefix that pins to one core, if there are two and taskset exists."""
    if (os.cpu_count() or 1) >= 2 and shutil.which("taskset"):
        return ["taskset", "-c", str(core)]
    return []


def proc_stats(pid: int) -> tuple[float, int]:
    """CPU seconds used so far and resident memory (bytes) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICK
    rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    return cpu, rss


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server exited at start-up")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


class Child:
    """The server under ``py-spy record``: signals and figures go to the server itself."""

    def __init__(self, spy: subprocess.Popen[bytes]) -> None:
        self.spy = spy
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            children = Path(f"/proc/{spy.pid}/task/{spy.pid}/children").read_text().split()
            if children:
                self.pid = int(children[0])
                return
            time.sleep(0.1)
        raise RuntimeError("py-spy did not start the server")

    def poll(self) -> int | None:
        return self.spy.poll()

    def terminate(self) -> None:
        os.kill(self.pid, 15)

    def wait(self, timeout: float | None = None) -> int:
        return self.spy.wait(timeout=timeout)

    def kill(self) -> None:
        os.kill(self.pid, 9)


PROFILE: Path | None = None
#: Sample only the thread holding the GIL: on the server's one core, where its CPU goes.
PROFILE_GIL = False
#: Where each run's server log is kept (--keep-logs), if anywhere.
KEEP_LOGS: Path | None = None


@contextmanager
def plenary_server(tmp: Path) -> Iterator[tuple[Any, str, dict[str, str]]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ | {"DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
                        "PLENARY_PUBLIC_URL": url, "PLENARY_LOG_LEVEL": "warning",
                        "PLENARY_GC_LOG_MS": str(GC_LOG_MS),
                        "PLENARY_SECRET_FILE": str(tmp / "secret.key")}
    command = [sys.executable, "-m", "plenary", "serve", "--port", str(port)]
    log = (tmp / "server.log").open("wb")
    proc: Any
    if PROFILE is not None:  # sampled 100 times a second, every thread, idle excluded
        # py-spy installed into the venv need not be on PATH.
        beside = Path(sys.executable).with_name("py-spy")
        spy_bin = str(beside) if beside.exists() else "py-spy"
        spy = subprocess.Popen([*pinned(0), spy_bin, "record", "--format", "raw", "-r", "100",
                                "--threads", *(["--gil"] if PROFILE_GIL else []),
                                "-o", str(PROFILE), "--", *command], env=env,
                               stderr=log)
        proc = Child(spy)
    else:
        proc = subprocess.Popen([*pinned(0), *command], env=env, stderr=log)
    try:
        wait_healthy(url + "/healthz", proc)
        yield proc, url, env
    finally:
        stop(proc)
        log.close()


@contextmanager
def baseline_server() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    proc = subprocess.Popen([*pinned(0), sys.executable, str(ROOT / "bench" /
                                                              "baseline_server.py"), str(port)])
    try:
        wait_healthy(f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling", proc)
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def stop(proc: Any) -> float:
    """SIGTERM, and how long the process took to exit."""
    if proc.poll() is not None:
        return 0.0
    t0 = time.monotonic()
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return time.monotonic() - t0


def create_event(env: dict[str, str], url: str, tables: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "plenary", "event", "create", "--template",
                          "alchemy", "--title", "Load", "--tables", str(tables), "--json"],
                         env=env, capture_output=True, text=True, check=True)
    info = json.loads(out.stdout)
    organiser = info["organiser_url"].split("#")[1]
    # Set it live as the organiser would, through the console's socket.
    import asyncio

    sys.path.insert(0, str(ROOT))
    from tests.integration.server import connect

    async def start() -> None:
        org = await connect(url, {"token": organiser})
        ack = await org.call("event.status", {"action": "start"})
        await org.close()
        assert ack["ok"], ack

    asyncio.run(start())
    return {"tables": [{"join_code": t["join_code"]} for t in info["tables"]],
            "organiser_token": organiser,
            "dashboard_token": info["dashboard_url"].split("#")[1]}


def drive(plan: dict[str, Any], server: Any, tmp: Path, loadgen_core: int | None = 1,
          log: Path | None = None) -> dict[str, Any]:
    """Run the load generator; sample the server (every process of it) at each phase
    boundary; at the end, with every client still connected, stop the server and time
    its exit. With the server's ``log``, say which phase each slow collection fell in."""
    servers = server if isinstance(server, list) else [server]
    # Where the log ended at each phase boundary: the lines between belong to the phase.
    offsets: dict[str, tuple[int, int]] = {}

    def offset() -> int:
        return log.stat().st_size if log is not None and log.exists() else 0

    def sample() -> tuple[float, int]:
        stats = [proc_stats(s.pid) for s in servers]
        return sum(c for c, _ in stats), sum(r for _, r in stats)

    plan = plan | {"hold": True}
    path = tmp / f"plan-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(plan))
    _, rss0 = sample()
    marks: dict[str, tuple[float, float, int]] = {}
    pin = pinned(loadgen_core) if loadgen_core is not None else []
    proc = subprocess.Popen([*pin, "node", str(LOAD / "loadgen.mjs"), str(path)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    result: dict[str, Any] = {}
    for line in proc.stdout:
        msg = json.loads(line)
        cpu, rss = sample()
        if "result" in msg:
            result = msg["result"]
            at_stop = offset()
            result["shutdown_s"] = max(stop(s) for s in servers)
            offsets["shutdown"] = (at_stop, offset())
            assert proc.stdin is not None
            proc.stdin.close()
        elif msg.get("phase") == "connected":
            marks["connected"] = (time.monotonic(), cpu, rss)
            offsets["joins"] = (0, offset())
        elif msg.get("begin"):
            marks[msg["phase"]] = (time.monotonic(), cpu, rss)
            offsets[msg["phase"]] = (offset(), 0)
        elif msg.get("end"):
            t0, c0, _ = marks[msg["phase"]]
            marks[msg["phase"]] = (time.monotonic() - t0, cpu - c0, rss)
            offsets[msg["phase"]] = (offsets[msg["phase"]][0], offset())
    if proc.wait() != 0 or not result:
        raise RuntimeError("the load generator failed")
    _, _, rss1 = marks["connected"]
    result.setdefault("shutdown_s", 0.0)
    result["kb_per_connection"] = (rss1 - rss0) / 1024 / result["connections"]
    result["server_rss_mb"] = rss1 / 2**20
    result["cpu"] = {name: {"wall_s": m[0], "cpu_s": m[1], "core": m[1] / m[0] if m[0] else None}
                     for name, m in marks.items() if name != "connected"}
    if log is not None:
        text = log.read_bytes()
        by_phase = {name: text[a:b].decode(errors="replace")
                    for name, (a, b) in offsets.items()}
        result["gc"] = {name: gc_pauses(t) for name, t in by_phase.items()}
        result["slow_commits"] = {name: slow_commits(t) for name, t in by_phase.items()}
    return result


#: The server logs every collection this long or longer (PLENARY_GC_LOG_MS): the
#: issue's bar is "no more than a few ms".
GC_LOG_MS = 5


def gc_pauses(text: str) -> list[tuple[int, float, float]]:
    """The slow collections in a server log's text (plenary.gcpolicy): (generation,
    wall ms, CPU ms)."""
    return [(int(g), float(ms), float(cpu)) for g, ms, cpu in
            re.findall(r"gc: generation (\d) collection took (\d+) ms \((\d+) ms CPU", text)]


def slow_commits(text: str) -> list[float]:
    """The write transactions the server logged as slow (plenary.actions.transaction:
    100 ms or more), in ms."""
    return [float(ms) for ms in re.findall(r"write: a transaction of \d+ action\(s\) took "
                                           r"(\d+) ms to commit", text)]


def flatten(r: dict[str, Any]) -> dict[str, float]:
    """The figures the report compares, by name."""
    out: dict[str, float] = {"connections": r["connections"], "join_seconds": r["join_seconds"],
                             "joins_per_s": r["joins_per_s"], "failed_joins": r["failed_joins"],
                             "kb_per_connection": r["kb_per_connection"]}
    gc = r.get("gc", {})

    def gc_figures(phase: str, suffix: str) -> None:
        pauses = gc.get(phase)
        if pauses is not None:
            out[f"gc_over{GC_LOG_MS}ms{suffix}"] = len(pauses)
            out[f"gc_max_ms{suffix}"] = max((ms for _, ms, _ in pauses), default=0.0)
    gc_figures("joins", "@joins")
    for ph in r["phases"]:
        at = f"@{ph['rate']}"
        for k in ("ack_p50", "ack_p99", "peer_p50", "peer_p99", "dash_p50", "dash_p99",
                  "delivered_ratio", "throughput"):
            if ph.get(k) is not None:
                out[k + at] = ph[k]
        out["refused" + at] = sum(ph["refused"].values())
        cpu = r["cpu"].get(f"posting {ph['rate']}/s")
        if cpu:
            out["server_core" + at] = cpu["core"]
        gc_figures(f"posting {ph['rate']}/s", at)
    for i, mv in enumerate(r["moves"], 1):
        for k in ("p50", "p99", "max"):
            if mv.get(k) is not None:
                out[f"advance_{k}#{i}"] = mv[k]
        out[f"move_ack#{i}"] = mv["ack_ms"]
        out[f"reached#{i}"] = mv["reached"] / mv["screens"]
        cpu = r["cpu"].get(f"move {i}")
        if cpu:
            out[f"move_cpu_s#{i}"] = cpu["cpu_s"]
        gc_figures(f"move {i}", f"#{i}")
        if "slow_commits" in r:  # 0: the move committed in under 100 ms
            out[f"move_commit#{i}"] = max(r["slow_commits"].get(f"move {i}", []), default=0.0)
    # Every client still connected, then SIGTERM: the one thaw of everything frozen.
    gc_figures("shutdown", "@shutdown")
    return out


def one_run(scenario: Scenario, tmp: Path, baseline: bool = True
            ) -> tuple[dict[str, float], dict[str, float], float]:
    base_plan = {"phones_per_table": scenario.phones, "dashboards": scenario.dashboards,
                 "start_stage": 0, "steps": scenario.steps}
    with plenary_server(tmp) as (proc, url, env):
        ev = create_event(env, url, scenario.tables)
        ours = drive(base_plan | ev | {"url": url, "spread_addresses": True}, proc, tmp,
                     log=tmp / "server.log")
    if KEEP_LOGS is not None:
        KEEP_LOGS.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp / "server.log", KEEP_LOGS / f"{tmp.name}-server.log")
    if not baseline:
        return flatten(ours), {}, ours["shutdown_s"]
    try:
        with baseline_server() as (bproc, burl):
            plan = base_plan | {"url": burl, "spread_addresses": True,
                                "organiser_token": "organiser",
                                "dashboard_token": "dashboard",
                                "tables": [{"join_code": f"T{i}"}
                                           for i in range(scenario.tables)]}
            theirs = flatten(drive(plan, bproc, tmp))
    except RuntimeError as exc:  # reported, and this run has no baseline figures
        print(f"baseline run failed: {exc}", flush=True)
        theirs = {}
    return flatten(ours), theirs, ours["shutdown_s"]


@contextmanager
def plenary_cluster(tmp: Path, processes: int
                    ) -> Iterator[tuple[list[subprocess.Popen[bytes]], str, dict[str, str]]]:
    """``processes`` Plenary servers on a fresh PostgreSQL database behind nginx
    (deploy/nginx/plenary.conf), with Redis between them when there are two or more."""
    import asyncio

    sys.path.insert(0, str(ROOT))
    from tests.integration.cluster import run_cluster
    from tests.integration.services import REDIS, nginx_binary, postgres_database, redis_prefix

    loop = asyncio.new_event_loop()
    db_cm, redis_cm = postgres_database(), redis_prefix()
    db_url = loop.run_until_complete(db_cm.__aenter__())
    prefix = loop.run_until_complete(redis_cm.__aenter__())
    try:
        with run_cluster(tmp, nginx=nginx_binary(), database_url=db_url,
                         redis_url=REDIS if processes > 1 else None, redis_prefix=prefix,
                         processes=processes) as cluster:
            procs = [p.popen for p in cluster.processes if p.popen is not None]
            yield procs, cluster.url, cluster.processes[0].env
    finally:
        loop.run_until_complete(redis_cm.__aexit__(None, None, None))
        loop.run_until_complete(db_cm.__aexit__(None, None, None))
        loop.close()


def scaleout_run(scenario: Scenario, tmp: Path, processes: int) -> dict[str, float]:
    """One run of ``scenario`` on ``processes`` processes (PostgreSQL, nginx; Redis if > 1).
    Nothing is pinned: the processes, nginx, PostgreSQL, Redis and the load generator
    share the machine's cores as they would on one host."""
    base_plan = {"phones_per_table": scenario.phones, "dashboards": scenario.dashboards,
                 "start_stage": 0, "steps": scenario.steps}
    with plenary_cluster(tmp, processes) as (procs, url, env):
        ev = create_event(env, url, scenario.tables)
        # Through nginx every phone would share 127.0.0.1 and the join limit.
        return flatten(drive(base_plan | ev | {"url": url, "spread_addresses": True}, procs,
                             tmp, loadgen_core=None))


def scaleout_report(one: list[dict[str, float]], two: list[dict[str, float]],
                    processes: int) -> None:
    print(f"\nmedians of {len(one)} run(s) each; shared machine, figures are noisy\n")
    print(f"{'figure':24} {'1 process':>10} {f'{processes} proc.':>10} {'ratio':>8}")
    for k in one[0]:
        a = statistics.median(r[k] for r in one if k in r)
        values = [r[k] for r in two if k in r]
        if not values:
            continue
        b = statistics.median(values)
        ratio = f"{b / a:8.2f}" if a else f"{'':8}"
        print(f"{k:24} {_num(a)} {_num(b)} {ratio}")


def report(runs: list[tuple[dict[str, float], dict[str, float], float]]) -> None:
    keys = list(runs[0][0])
    print(f"\nmedians of {len(runs)} run(s); shared machine, figures are noisy\n")
    print(f"{'figure':24} {'plenary':>10} {'baseline':>10} {'÷ base':>8} {'target':>8} "
          f"{'÷ target':>9}")
    for k in keys:
        ours = statistics.median(r[0][k] for r in runs if k in r[0])
        base_values = [r[1][k] for r in runs if k in r[1]]
        base = statistics.median(base_values) if base_values else None
        ratio = f"{ours / base:8.2f}" if base else f"{'':8}"
        name = k.split("#")[0]
        target = TARGETS.get(name) or (TARGETS["move_commit"]
                                       if name in ("move_ack", "move_commit") else None)
        if name == "advance_p99":
            target = TARGETS["advance_p99"]
        tcol = f"{target:8.0f} {ours / target:9.2f}" if target else ""
        base_s = _num(base) if base is not None else f"{'-':>10}"
        print(f"{k:24} {_num(ours)} {base_s} {ratio} {tcol}")
    shutdowns = [r[2] for r in runs]
    print(f"\nSIGTERM to exit with every client connected: "
          f"{statistics.median(shutdowns):.1f} s (median)")


def _num(x: float) -> str:
    return f"{x:10.3f}" if abs(x) < 10 else f"{x:10.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="seed")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", metavar="FILE", help="also write every run's figures here")
    parser.add_argument("--profile", metavar="FILE", type=Path,
                        help="record the server with py-spy (collapsed stacks) into FILE")
    parser.add_argument("--gil", action="store_true",
                        help="with --profile: sample only the thread holding the GIL")
    parser.add_argument("--keep-logs", metavar="DIR", type=Path,
                        help="copy each run's server log (slow collections, warnings) here")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the bare python-socketio runs (quicker, no ratios)")
    parser.add_argument("--tables", type=int, metavar="N",
                        help="override the scenario's number of tables (10 phones each)")
    parser.add_argument("--rate", type=int, metavar="N",
                        help="override the notes per second of the scenario's first phase")
    parser.add_argument("--processes", type=int, default=1, metavar="N",
                        help="compare 1 process with N behind nginx, both on PostgreSQL "
                             "(N > 1: Redis between them) instead of with bare python-socketio")
    args = parser.parse_args()
    if not (LOAD / "node_modules").is_dir():
        sys.exit("Install the load generator first: npm ci --prefix bench/load")
    scenario = SCENARIOS[args.scenario]
    global PROFILE, PROFILE_GIL, KEEP_LOGS
    PROFILE, PROFILE_GIL, KEEP_LOGS = args.profile, args.gil, args.keep_logs
    if args.tables or args.rate:
        steps = [dict(st) for st in scenario.steps]
        if args.rate:
            steps[0]["rate"] = args.rate
        scenario = Scenario(args.tables or scenario.tables, scenario.phones,
                            scenario.dashboards, steps)
    if args.processes > 1:
        by_count: dict[int, list[dict[str, float]]] = {1: [], args.processes: []}
        with tempfile.TemporaryDirectory() as tmp:
            for n in range(args.runs):
                for count in by_count:  # alternate, so that the machine's noise is shared
                    run_dir = Path(tmp) / f"run{n}-{count}"
                    run_dir.mkdir()
                    by_count[count].append(scaleout_run(scenario, run_dir, count))
                    print(f"run {n + 1}, {count} process(es) done", flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(by_count, indent=1))
        scaleout_report(by_count[1], by_count[args.processes], args.processes)
        return
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.runs):
            run_dir = Path(tmp) / f"run{n}"
            run_dir.mkdir()
            runs.append(one_run(scenario, run_dir, baseline=not args.no_baseline))
            print(f"run {n + 1} done", flush=True)
            if args.json:  # after every run, so a failure later loses nothing
                Path(args.json).write_text(json.dumps(runs, indent=1))
    report(runs)


if __name__ == "__main__":
    main()
