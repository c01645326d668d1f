"""Cross-table themes benchmark: the model, embedding, refreshes, and live boards meanwhile.

    .venv/bin/python bench/themes_bench.py [--runs 3] [--skip-live]

Measures, on this machine, with medians of several runs:

- model load (ONNX session and tokenizer);
- CPU per note embedded, one at a time (a note as it is posted) and in batches of 32
  (what the refresher does with a backlog), in this process;
- a theme refresh of one stage through the real service (the themes process reads the
  notes and vectors from SQLite, clusters, names, matches identities; the service
  writes) at the seed event's 1,500 notes and a conference's 50,000, all in the stage
  being refreshed (the worst case);
- against `plenary serve` in its own process, pinned to one core as the load bench
  pins it (its themes process inherits the pinning; ``--no-pin`` lets both float):
  resident memory of the server and of its themes process, separately (before, and
  the peak through a 50,000-note refresh, and after it the model loaded again for a
  backlog, since a refresh that large lets it go); CPU per note embedded in each of them
  while a 1,500-note backlog is embedded; and live post -> ack p99 of phones at
  another event, quiet, while that backlog is embedded and refreshed, and while a
  1,500- and a 50,000-note refresh run.

Texts: the labelled notes of tests/data/themes_labelled.txt, varied (openings, endings,
typos) into a pool of distinct texts that are embedded for real; each note takes one,
so a 50,000-note stage has realistic structure without 50,000 model calls.

Targets (issue 10, 2-core machine): embedding <= 10 ms CPU per note; refresh of one
stage <= 1 s at 1,500 notes and <= 10 s at 50,000; model load <= 2 s; memory added
<= 300 MB (the server's growth and the themes process together); post -> ack p99
unchanged while a refresh runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "server"))


import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from _tables import replace_tables  # noqa: E402
from plenary.actions.setup import create_event  # noqa: E402
from plenary.domain.credentials import new_id  # noqa: E402
from plenary.domain.topics_csv import TopicSpec  # noqa: E402
from plenary.setup import load_template  # noqa: E402
from plenary.store import Database  # noqa: E402
from plenary.store import queries as q  # noqa: E402
from plenary.store.schema import board_tables, note_vectors, notes, participants  # noqa: E402

from tests.integration.server import connect, free_port  # noqa: E402
from tests.themes_data import load  # noqa: E402

TARGETS = {"embed_ms": 10.0, "refresh_seed_s": 1.0, "refresh_conf_s": 10.0, "load_s": 2.0,
           "memory_mb": 300.0}
OPENINGS = ("", "", "", "We need to ", "I think ", "Really important: ", "Maybe ", "Could we ")
ENDINGS = ("", "", "", " asap", " for everyone", " in our area", " - urgent", "!", " please")


def varied(rng: random.Random, text: str) -> str:
    out = rng.choice(OPENINGS) + (text[0].lower() + text[1:] if rng.random() < 0.5 else text)
    out += rng.choice(ENDINGS)
    if rng.random() < 0.3 and len(out) > 8:  # a typo: two letters swapped
        i = rng.randrange(1, len(out) - 2)
        out = out[:i] + out[i + 1] + out[i] + out[i + 2:]
    return out


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


def ratio(value: float, target: float) -> str:
    return f"(target {target:g}, ratio {value / target:.2f})"


async def make_event(db: Database, tables: int, count: int, pool: list[tuple[str, bytes]],
                     model: str, rng: random.Random) -> str:
    """A live event of ``tables`` tables with ``count`` public notes in stage 1, embedded."""
    template = load_template(ROOT / "board_templates", "alchemy")
    event_id = await create_event(db, template, title=f"Themes bench {count}",
                                  topics=[TopicSpec(t.title) for t in template.topics],
                                  tables=1)
    now = q.now_ms()
    async with db.write() as conn:
        rows = await replace_tables(conn, event_id, tables)
        people = [{"id": new_id(), "table_id": t["id"], "key_hash": os.urandom(32).hex(),
                   "display_name": None, "created_ms": now} for t in rows]
        await conn.execute(sa.insert(participants), people)
        await conn.execute(sa.text("UPDATE events SET status = 'live' WHERE id = :e"),
                           {"e": event_id})
    for start in range(0, count, 5000):
        note_rows, vector_rows = [], []
        for i in range(start, min(count, start + 5000)):
            t = i % tables
            text, blob = pool[rng.randrange(len(pool))]
            nid = new_id()
            note_rows.append({"id": nid, "table_id": rows[t]["id"],
                              "participant_id": people[t]["id"], "stage_index": 0,
                              "step_index": 0, "category": None, "text": text, "author": None,
                              "created_ms": now + i, "created_seq": i + 1})
            vector_rows.append({"note_id": nid, "event_id": event_id, "model": model,
                                "source_ms": now + i, "vector": blob})
        async with db.write() as conn:
            await conn.execute(sa.insert(notes), note_rows)
            await conn.execute(sa.insert(note_vectors), vector_rows)
    return event_id


def status_mb(pid: int) -> tuple[float, float]:
    """Resident memory of a process now and at its peak (VmRSS, VmHWM), MB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line[:5]] = int(line.split()[1]) / 1024
    return out["VmRSS"], out["VmHWM"]


def reset_peak(pid: int) -> None:
    """Start a process's VmHWM over from now (Linux: clear_refs 5)."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def themes_process(pid: int) -> int:
    """The server's themes process (not multiprocessing's resource tracker)."""
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        kids = [int(x) for x in f.read().split()]
    for kid in kids:
        with open(f"/proc/{kid}/cmdline", "rb") as f:
            if b"resource_tracker" not in f.read():
                return kid
    raise RuntimeError(f"no themes process among {kids}")


async def refresh_times(db: Database, event_id: str, runs: int) -> list[float]:
    from plenary.themes.service import Themes

    themes = Themes(db, interval_s=3600)
    out = []
    try:
        for _ in range(runs):
            start = time.perf_counter()
            await themes.refresh(event_id, stage=0, force=True)
            out.append(time.perf_counter() - start)
    finally:
        await themes.stop()
    return out


async def live_p99(url: str, join_codes: list[str], seconds: float, rate: float,
                   during: asyncio.Future | None = None) -> list[float]:
    """Post -> ack latencies (ms) of phones posting at ``rate`` a second for ``seconds``
    (or until ``during`` is done, at least ``seconds``)."""
    phones = [await connect(url, {"join_code": c, "participant_key": secrets.token_bytes(16),
                                  "name": f"Phone {i}"}) for i, c in enumerate(join_codes)]
    latencies: list[float] = []

    async def post(phone) -> None:
        t0 = time.perf_counter()
        r = await phone.call("note.post", {"id": secrets.token_hex(8),
                                           "text": "A note while the themes refresh"})
        assert r["ok"], r
        latencies.append((time.perf_counter() - t0) * 1000)

    tasks = []
    start = time.perf_counter()
    i = 0
    while time.perf_counter() - start < seconds or (during is not None and not during.done()):
        tasks.append(asyncio.create_task(post(phones[i % len(phones)])))
        i += 1
        await asyncio.sleep(1 / rate)
    await asyncio.gather(*tasks)
    for p in phones:
        await p.close()
    return latencies


def serve(db_path: Path, pin: bool) -> tuple[subprocess.Popen, str]:
    """`plenary serve` on the bench database, in its own process, once it answers;
    ``pin``: on the last core, as the load bench pins it (its themes process, started
    later, inherits that)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ | {"DATABASE_URL": f"sqlite:///{db_path}", "PLENARY_PUBLIC_URL": url,
                        "PLENARY_LOG_LEVEL": "warning", "PLENARY_THEMES_INTERVAL": "3600",
                        "PLENARY_SECRET_KEY": SECRET.decode()}
    proc = subprocess.Popen([sys.executable, "-m", "plenary", "serve", "--port", str(port)],
                            env=env)
    if pin:
        os.sched_setaffinity(proc.pid, {SERVER_CORE})
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.terminate()
            raise RuntimeError("the server did not start")
        time.sleep(0.2)


#: The server's secret key (at least 32 bytes, or it refuses to start).
SECRET = b"themes-bench-secret-key-of-32-bytes-or-more"
#: The core the server (and so its themes process) is pinned to; the phones get the other.
SERVER_CORE = (os.cpu_count() or 1) - 1


def timed(coro: Any) -> asyncio.Future:
    """``coro`` as a task whose ``took`` is the moment it finished (perf_counter)."""
    task = asyncio.ensure_future(coro)
    task.took = None  # type: ignore[attr-defined]

    def done(t: asyncio.Future) -> None:
        t.took = time.perf_counter()  # type: ignore[attr-defined]

    task.add_done_callback(done)
    return task


async def unembed(db_path: Path, event_id: str) -> int:
    """Drop the event's vectors, so that its next refresh embeds every note again."""
    db = Database(f"sqlite:///{db_path}")
    try:
        async with db.write() as conn:
            r = await conn.execute(sa.delete(note_vectors).where(
                note_vectors.c.event_id == event_id))
            return r.rowcount
    finally:
        await db.close()


async def live_part(db_path: Path, events: list[tuple[str, str]], join_codes: list[str],
                    runs: int, pin: bool) -> None:
    if pin:
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)) - {SERVER_CORE} or {0})
    proc, url = await asyncio.to_thread(serve, db_path, pin)
    try:
        from plenary.links import Links

        await asyncio.sleep(1.0)
        server_start, _ = status_mb(proc.pid)
        print(f"server pinned to core {SERVER_CORE}" if pin else "server not pinned")
        seed_id = events[0][1]
        async with httpx.AsyncClient(base_url=url, headers={"origin": url},
                                     timeout=600) as http:
            for _name, event_id in events:
                token = Links(url, SECRET).organiser(event_id, 0).split("#", 1)[1]
                r = await http.post("/api/session", json={"token": token})
                assert r.status_code == 200, r.text
            # The themes process starts and loads the model on the first embedding call.
            r = await http.post(f"/api/events/{seed_id}/themes/refresh", json={"stage": 0})
            assert r.status_code == 200, r.text
            worker = themes_process(proc.pid)
            server_warm, _ = status_mb(proc.pid)
            worker_warm, _ = status_mb(worker)

            # A backlog: the seed event's 1,500 notes lose their vectors, and a refresh
            # embeds them all (in the themes process), then clusters them.
            quiet, busy_embed, embed_took, worker_cpu = [], [], [], []
            quiet_rate, busy_rate = [], []
            for _ in range(runs):
                c0, t0 = cpu_of(proc.pid), time.perf_counter()
                quiet.append(pct(await live_p99(url, join_codes, 6, 20), 0.99))
                quiet_rate.append((cpu_of(proc.pid) - c0) / (time.perf_counter() - t0))
                count = await unembed(db_path, seed_id)
                c_server, c_worker = cpu_of(proc.pid), cpu_of(worker)
                t0 = time.perf_counter()
                refresh = timed(http.post(f"/api/events/{seed_id}/themes/refresh",
                                          json={"stage": 0}))
                lat = await live_p99(url, join_codes, 3, 20, during=refresh)
                assert (await refresh).status_code == 200
                embed_took.append(refresh.took - t0)
                busy_rate.append((cpu_of(proc.pid) - c_server) / (time.perf_counter() - t0))
                worker_cpu.append((cpu_of(worker) - c_worker) / count * 1000)
                busy_embed.append(pct(lat, 0.99))
            print(f"a 1,500-note backlog embedded, then refreshed, by the server: "
                  f"{median(embed_took):.1f} s; CPU per note in the themes process "
                  f"{median(worker_cpu):.1f} ms {ratio(median(worker_cpu), TARGETS['embed_ms'])}"
                  f" (embedding and the refresh); the server process's CPU, with 20 posts/s: "
                  f"{median(quiet_rate):.2f} s/s quiet, {median(busy_rate):.2f} s/s meanwhile")
            print(f"live post->ack p99, 20 posts/s from {len(join_codes)} phones: quiet "
                  f"{[round(x) for x in quiet]} ms (median {median(quiet):.0f}); while the "
                  f"backlog is embedded {[round(x) for x in busy_embed]} ms (median "
                  f"{median(busy_embed):.0f}; ratio {median(busy_embed) / median(quiet):.2f})")

            for name, event_id in events:
                path = f"/api/events/{event_id}/themes/refresh"
                reset_peak(proc.pid)
                reset_peak(worker)
                quiet, busy, took = [], [], []
                for _ in range(runs):
                    quiet.append(pct(await live_p99(url, join_codes, 6, 20), 0.99))
                    t0 = time.perf_counter()
                    refresh = timed(http.post(path, json={"stage": 0}))
                    lat = await live_p99(url, join_codes, 3, 20, during=refresh)
                    assert (await refresh).status_code == 200
                    took.append(refresh.took - t0)
                    busy.append(pct(lat, 0.99))
                server_now, server_peak = status_mb(proc.pid)
                worker_now, worker_peak = status_mb(worker)
                print(f"live post->ack p99 quiet {[round(x) for x in quiet]} ms (median "
                      f"{median(quiet):.0f}); while a {name}-note refresh runs "
                      f"{[round(x) for x in busy]} ms (median {median(busy):.0f}; ratio "
                      f"{median(busy) / median(quiet):.2f}); that refresh in the server "
                      f"{median(took):.1f} s")
                server_added = server_peak - server_start
                worker_added = worker_peak
                print(f"  memory through the {name}-note refreshes: server {server_start:.0f} "
                      f"MB at start, {server_warm:.0f} MB warm, peak {server_peak:.0f} MB "
                      f"(added {server_added:.0f} MB {ratio(server_added, TARGETS['memory_mb'])}"
                      f"), {server_now:.0f} MB after; themes process {worker_warm:.0f} MB "
                      f"warm, peak {worker_peak:.0f} MB "
                      f"{ratio(worker_added, TARGETS['memory_mb'])}, {worker_now:.0f} MB "
                      f"after; together added {server_added + worker_added:.0f} MB "
                      f"{ratio(server_added + worker_added, TARGETS['memory_mb'])}")
                if event_id != seed_id:
                    # A large refresh lets the model go (worker.UNLOAD_ABOVE): the peak
                    # counts its loading again too, with a backlog to embed.
                    await unembed(db_path, seed_id)
                    r = await http.post(f"/api/events/{seed_id}/themes/refresh",
                                        json={"stage": 0})
                    assert r.status_code == 200, r.text
                    _, server_peak = status_mb(proc.pid)
                    _, worker_peak = status_mb(worker)
                    together = server_peak - server_start + worker_peak
                    print(f"  then the model loaded again and a 1,500-note backlog embedded: "
                          f"themes process peak {worker_peak:.0f} MB, together added "
                          f"{together:.0f} MB {ratio(together, TARGETS['memory_mb'])}")
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 30)


async def main(args: argparse.Namespace) -> None:
    print(f"themes bench: machine shared ({os.cpu_count()} cores); medians of {args.runs} runs")
    t0 = time.perf_counter()
    from plenary.themes.embedder import MODEL_ID, Embedder, to_bytes
    print(f"import of onnxruntime, tokenizers, numpy: {time.perf_counter() - t0:.2f} s")
    loads = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        embedder = Embedder()
        loads.append(time.perf_counter() - t0)
    print(f"model load: {[round(x, 2) for x in loads]} s, median {median(loads):.2f} s "
          f"{ratio(median(loads), TARGETS['load_s'])}")

    rng = random.Random(7)
    labelled = [n.text for n in load()]
    texts = list(dict.fromkeys(varied(rng, rng.choice(labelled)) for _ in range(4000)))
    single, batched = [], []
    for _ in range(args.runs):
        sample = rng.sample(texts, 200)
        c0 = time.process_time()
        for text in sample:
            embedder.embed([text])
        single.append((time.process_time() - c0) / len(sample) * 1000)
        c0 = time.process_time()
        for i in range(0, len(sample), 32):
            embedder.embed(sample[i:i + 32])
        batched.append((time.process_time() - c0) / len(sample) * 1000)
    print(f"embedding CPU per note: one at a time {median(single):.1f} ms "
          f"{ratio(median(single), TARGETS['embed_ms'])}; in batches of 32 "
          f"{median(batched):.1f} ms")
    vectors = []
    for i in range(0, len(texts), 64):
        vectors += [to_bytes(v) for v in embedder.embed(texts[i:i + 64])]
    pool = list(zip(texts, vectors, strict=True))
    print(f"pool: {len(pool)} distinct texts embedded")
    del embedder

    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "themes-bench.db"
        db = Database(f"sqlite:///{db_path}")
        try:
            await db.migrate()
            seed = await make_event(db, 8, 1500, pool, MODEL_ID, rng)
            conference = await make_event(db, 500, 50_000, pool, MODEL_ID, rng)
            live_event = await make_event(db, 10, 0, pool, MODEL_ID, rng)
            async with db.read() as conn:
                codes = [r[0] for r in await conn.execute(sa.select(board_tables.c.join_code)
                                                          .where(board_tables.c.event_id ==
                                                                 live_event))]
            for name, event_id, key in (("1,500", seed, "refresh_seed_s"),
                                        ("50,000", conference, "refresh_conf_s")):
                times = await refresh_times(db, event_id, args.runs + 1)
                times = times[1:]  # the first run also loads the model
                print(f"refresh of one stage with {name} notes: "
                      f"{[round(x, 2) for x in times]} s, median {median(times):.2f} s "
                      f"{ratio(median(times), TARGETS[key])}")
        finally:
            await db.close()
        if not args.skip_live:
            await live_part(db_path, [("1,500", seed), ("50,000", conference)], codes,
                            args.runs, not args.no_pin)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-live", action="store_true")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin the server to one core")
    asyncio.run(main(parser.parse_args()))
