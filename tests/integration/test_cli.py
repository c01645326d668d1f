"""The `plenary` command as a user runs it: a real process, real output."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from .server import free_port

pytestmark = pytest.mark.integration

PLENARY = [sys.executable, "-m", "plenary"]


def env_for(tmp_path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
               PLENARY_PUBLIC_URL="http://plenary.test:8000")
    env.pop("PLENARY_SECRET_KEY", None)
    return env


def test_event_create_json(tmp_path):
    topics = tmp_path / "topics.txt"
    topics.write_text("# our topics\nHousing\n\nHealth\n", encoding="utf-8")
    out = subprocess.run(
        [*PLENARY, "event", "create", "--template", "retrospective", "--title", "Team retro",
         "--topics", str(topics), "--tables", "3", "--json"],
        env=env_for(tmp_path), capture_output=True, text=True, check=True, timeout=60)
    info = json.loads(out.stdout)
    assert info["id"] and info["title"] == "Team retro" and info["status"] == "draft"
    assert info["organiser_url"].startswith("http://plenary.test:8000/organiser#o.")
    assert info["dashboard_url"].startswith("http://plenary.test:8000/dashboard#d.")
    assert [t["number"] for t in info["tables"]] == [1, 2, 3]
    assert [t["topic"] for t in info["tables"]] == ["Housing", "Health", "Housing"]
    for t in info["tables"]:
        assert len(t["join_code"]) == 8
        assert t["participant_url"] == f"http://plenary.test:8000/j/{t['join_code']}"
        assert t["facilitator_url"].startswith("http://plenary.test:8000/facilitator#f.")
    assert (tmp_path / "cli.key").exists()


def test_event_create_reports_mistakes_plainly(tmp_path):
    out = subprocess.run(
        [*PLENARY, "event", "create", "--template", "nope", "--title", "X", "--tables", "2"],
        env=env_for(tmp_path), capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "no template called 'nope'" in out.stderr and "Traceback" not in out.stderr


def test_templates_lists_and_validates(tmp_path):
    out = subprocess.run([*PLENARY, "templates"], env=env_for(tmp_path), capture_output=True,
                         text=True, check=True, timeout=60)
    for name in ("alchemy", "world-cafe", "retrospective", "citizens-panel"):
        assert name in out.stdout
    broken = tmp_path / "templates"
    broken.mkdir()
    (broken / "bad.toml").write_text('schema = 1\nname = "bad"\ntitle = "Bad"\nstages = []\n')
    env = env_for(tmp_path) | {"PLENARY_TEMPLATES_DIR": str(broken)}
    out = subprocess.run([*PLENARY, "templates"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 1
    assert "bad.toml: stages:" in out.stderr


def test_demo_prints_links_and_serves(tmp_path):
    """The README's first command: creates the demo once, prints links, serves them."""
    port = free_port()
    env = env_for(tmp_path) | {"PLENARY_PUBLIC_URL": ""}
    proc = subprocess.Popen([*PLENARY, "demo", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "Uvicorn running" in line or "Application startup complete" in line:
                break
        text = "".join(lines)
        assert f"Organiser console : http://127.0.0.1:{port}/organiser#o." in text
        assert f"Plenary dashboard : http://127.0.0.1:{port}/dashboard#d." in text
        assert text.count("participant: ") == 8 and text.count("facilitator: ") == 8
        assert "Children's services: transitioning from care in England" in text
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
    finally:
        stop(proc)
    # Run again: the same demo event, not a second one.
    again = subprocess.run([*PLENARY, "event", "create", "--template", "alchemy", "--title", "x",
                            "--tables", "1", "--json"], env=env, capture_output=True, text=True,
                           check=True, timeout=60)
    assert json.loads(again.stdout)["id"]
    first_org = next(ln for ln in lines if "Organiser console" in ln)
    proc = subprocess.Popen([*PLENARY, "demo", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        second = [next(proc.stdout) for _ in range(6)]
        assert first_org in second
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=15)
    proc.stdout.close()


def test_serve_refuses_an_empty_secret_file_plainly(tmp_path):
    key = tmp_path / "cli.key"  # beside the database: the default key file
    key.write_bytes(b"")
    out = subprocess.run([*PLENARY, "serve", "--port", str(free_port())],
                         env=env_for(tmp_path), capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "at least 32" in out.stderr and str(key) in out.stderr
    assert "Traceback" not in out.stderr
