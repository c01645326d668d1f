"""Configuration from environment variables, with safe defaults for one laptop.

Every setting is data (name, default, help) so the docs cannot drift from the
code: tests/unit/test_config.py fails when one is missing from the README.
"""

from __future__ import annotations

import os
import secrets
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
            "Secret that signs every capability link. Unset: read from PLENARY_SECRET_FILE, "
            "created on first run. Set the same value on every process of one deployment."),
    Setting("PLENARY_SECRET_FILE", "plenary-secret.key (beside a SQLite database)",
            "File holding the secret key when PLENARY_SECRET_KEY is unset."),
    Setting("PLENARY_TEMPLATES_DIR", "board_templates/ in the checkout",
            "Folder of board templates (*.toml)."),
    Setting("PLENARY_STATIC_DIR", "static/ in the checkout", "Folder of the pages and assets."),
    Setting("PLENARY_LOG_LEVEL", "info", "Log level: debug, info, warning or error."),
    Setting("REDIS_URL", "",
            "Redis for several server processes (redis://host:6379/0): broadcasts, presence "
            "and join limits are shared through it. Unset: one process, all in memory."),
    Setting("PLENARY_REDIS_PREFIX", "plenary",
            "Name of the socket.io channel and prefix of every Redis key, so that several "
            "deployments (or test runs) can share one Redis."),
    Setting("PLENARY_WORKERS", "1",
            "Server processes `plenary serve` starts on one port (--workers). More than one "
            "needs REDIS_URL and PLENARY_SECRET_KEY."),
]


class ConfigError(ValueError):
    """A setting (or a combination of settings) the server refuses to start with."""


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
    redis_url: str | None = None
    redis_prefix: str = "plenary"
    workers: int = 1

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
        """The server's secret key, created (mode 0600) on first use if it is kept in a file."""
        if self.secret_key:
            return self.secret_key.encode()
        try:
            return self.secret_file.read_bytes().strip()
        except FileNotFoundError:
            pass
        self.secret_file.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32).encode()
        try:
            fd = os.open(self.secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return self.secret_file.read_bytes().strip()
        with os.fdopen(fd, "wb") as f:
            f.write(key + b"\n")
        return key


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
        redis_url=env.get("REDIS_URL") or None,
        redis_prefix=env.get("PLENARY_REDIS_PREFIX") or "plenary",
        workers=_positive_int(env, "PLENARY_WORKERS", 1),
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
