from pathlib import Path

from plenary import config

from tests.conftest import ROOT


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    undocumented = [s.env for s in config.SETTINGS if f"`{s.env}`" not in readme]
    assert not undocumented


def test_defaults_are_safe_for_one_laptop():
    cfg = config.load({})
    assert cfg.host == "127.0.0.1"
    assert cfg.port == 8000
    assert cfg.database_url == "sqlite+aiosqlite:///plenary.db"
    assert cfg.public_url == "http://127.0.0.1:8000"
    assert cfg.secret_file == Path("plenary.key")


def test_plain_database_urls_get_async_drivers():
    assert config.load({"DATABASE_URL": "sqlite:///x.db"}).database_url == \
        "sqlite+aiosqlite:///x.db"
    assert config.load({"DATABASE_URL": "postgresql://u@h/db"}).database_url == \
        "postgresql+asyncpg://u@h/db"


def test_port_and_public_url():
    cfg = config.load({"PORT": "9000", "PLENARY_HOST": "0.0.0.0"})
    assert cfg.public_url == "http://127.0.0.1:9000"
    cfg = config.load({"PLENARY_PUBLIC_URL": "https://plenary.example.org/"})
    assert cfg.public_url == "https://plenary.example.org"


def test_secret_file_is_created_private_and_reused(tmp_path):
    cfg = config.load({"PLENARY_SECRET_FILE": str(tmp_path / "s.key")})
    first = cfg.secret()
    assert len(first) >= 32
    assert (tmp_path / "s.key").stat().st_mode & 0o077 == 0
    assert cfg.secret() == first
    assert config.load({"PLENARY_SECRET_KEY": "k" * 40}).secret() == b"k" * 40


def test_several_processes_refuse_to_start_without_a_shared_secret(tmp_path):
    import pytest

    lonely = {"PLENARY_SECRET_FILE": str(tmp_path / "none.key")}
    config.load(lonely).check()  # one process may make its own key file
    for env in ({"REDIS_URL": "redis://127.0.0.1:6379/0"},
                {"REDIS_URL": "redis://127.0.0.1:6379/0", "PLENARY_WORKERS": "2"}):
        with pytest.raises(config.ConfigError, match="PLENARY_SECRET_KEY"):
            config.load(lonely | env).check()
        config.load(lonely | env | {"PLENARY_SECRET_KEY": "k" * 64}).check()
    assert not (tmp_path / "none.key").exists()
    with pytest.raises(config.ConfigError, match="REDIS_URL"):
        config.load({"PLENARY_WORKERS": "2", "PLENARY_SECRET_KEY": "k"}).check()
    with pytest.raises(config.ConfigError, match="whole number"):
        config.load({"PLENARY_WORKERS": "two"})


def test_the_deployment_guide_shows_the_tested_nginx_config_verbatim():
    conf = (ROOT / "deploy" / "nginx" / "plenary.conf").read_text()
    guide = (ROOT / "docs" / "deployment.md").read_text()
    assert f"```nginx\n{conf}```" in guide


def test_the_join_rate_per_address_reaches_the_live_channel(tmp_path):
    from plenary.app import create_app

    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
           "PLENARY_SECRET_FILE": str(tmp_path / "k.key")}
    # The default lets a whole conference behind one venue NAT join in one minute.
    assert create_app(config.load(env)).channel.joins.joins >= 5000
    tight = config.load(env | {"PLENARY_JOINS_PER_MINUTE": "40"})
    assert tight.joins_per_minute == 40
    assert create_app(tight).channel.joins.joins == 40
