"""Settings: refused at start-up when unusable, safe defaults otherwise."""

import stat

import pytest

from api import create_app
from api.config import ConfigurationError, Settings

LONG_SECRET = "s" * 32


def test_short_secret_is_refused():
    with pytest.raises(ConfigurationError, match="32 bytes"):
        Settings.from_env({"JWT_SECRET_KEY": "s" * 31, "MRM_ENV": "production"})
    with pytest.raises(ConfigurationError, match="32 bytes"):
        Settings.from_env({"JWT_SECRET_KEY": "short"})  # development too


def test_short_secret_given_in_code_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="32 bytes"):
        Settings.from_env({}, jwt_secret_key="short", instance_dir=tmp_path)
    with pytest.raises(ConfigurationError):
        Settings(env="production")


def test_missing_secret_outside_development_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="JWT_SECRET_KEY"):
        Settings.from_env({"MRM_ENV": "production", "MRM_INSTANCE_DIR": str(tmp_path)})
    with pytest.raises(ConfigurationError, match="JWT_SECRET_KEY"):
        Settings.from_env({}, env="production", instance_dir=tmp_path)
    assert not (tmp_path / "jwt-secret").exists()


def test_create_app_refuses_to_start_without_a_secret(monkeypatch, tmp_path):
    monkeypatch.setenv("MRM_ENV", "production")
    monkeypatch.setenv("MRM_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError):
        create_app()
    monkeypatch.setenv("JWT_SECRET_KEY", "too-short")
    with pytest.raises(ConfigurationError):
        create_app()


def test_production_with_a_long_secret(tmp_path):
    settings = Settings.from_env(
        {"MRM_ENV": "production", "JWT_SECRET_KEY": LONG_SECRET, "MRM_INSTANCE_DIR": str(tmp_path)}
    )
    assert settings.jwt_secret_key == LONG_SECRET
    assert not (tmp_path / "jwt-secret").exists()


def test_development_secret_is_generated_once_and_private(tmp_path):
    first = Settings.from_env({"MRM_INSTANCE_DIR": str(tmp_path)})
    second = Settings.from_env({"MRM_INSTANCE_DIR": str(tmp_path)})
    assert first.jwt_secret_key == second.jwt_secret_key
    assert len(first.jwt_secret_key) >= 32
    mode = stat.S_IMODE((tmp_path / "jwt-secret").stat().st_mode)
    assert mode == 0o600
    # an instance_dir given in code is where the secret goes
    other = tmp_path / "other"
    Settings.from_env({}, instance_dir=other)
    assert (other / "jwt-secret").exists()


def test_environment_is_read(tmp_path):
    settings = Settings.from_env(
        {
            "MRM_INSTANCE_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://u@db/mrm",
            "CORS_ORIGINS": " https://a.example , ,https://b.example",
            "MRM_LOGIN_MAX_FAILURES": "7",
            "MRM_LOG_LEVEL": "debug",
        }
    )
    assert settings.database_url == "postgresql+psycopg://u@db/mrm"
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.login_max_failures == 7
    assert settings.log_level == "DEBUG"
    default = Settings.from_env({"MRM_INSTANCE_DIR": str(tmp_path)})
    assert default.database_url == f"sqlite:///{tmp_path / 'mrm.sqlite3'}"


def test_non_integer_setting_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="MRM_ACCESS_TOKEN_MINUTES"):
        Settings.from_env({"MRM_INSTANCE_DIR": str(tmp_path), "MRM_ACCESS_TOKEN_MINUTES": "ten"})
