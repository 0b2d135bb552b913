"""The API's settings are fields of the one ``ftthnoc.settings.Settings`` (``FTTHNOC_API_*``): the
CSRF/session secret survives a restart, secure cookies can be asked for, and the knobs parse."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import Engine

from api.app import create_app
from api.security import SECRET_FILE
from ftthnoc.settings import Settings
from tests.api.conftest import PASSWORD, TestClient, settings_for


def _unset_secret(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir)


def test_without_a_secret_one_is_kept_0600_and_survives_a_restart(engine: Engine, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.delenv("FTTHNOC_API_SECRET", raising=False)
    data = tmp_path / "data"
    first = create_app(engine, settings=_unset_secret(data))
    kept = data / SECRET_FILE
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert [p.name for p in data.iterdir()] == [SECRET_FILE]  # no draft left behind
    with TestClient(first) as browser:
        csrf = browser.post("/api/login", json={"name": "sue", "password": PASSWORD}).json()["csrf_token"]
        cookies = dict(browser.cookies)
    restarted = create_app(engine, settings=_unset_secret(data))
    assert restarted.state.secret == first.state.secret
    with TestClient(restarted, cookies=cookies) as browser:  # the session's CSRF token still works
        assert browser.post("/api/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    other = create_app(engine, settings=_unset_secret(tmp_path / "elsewhere"))
    assert other.state.secret != first.state.secret


def test_a_secret_from_the_environment_is_used_and_must_be_long(engine: Engine, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("FTTHNOC_API_SECRET", "s" * 40)
    settings = Settings(data_dir=tmp_path)
    assert "s" * 40 not in repr(settings)  # a SecretStr: never printed
    assert create_app(engine, settings=settings).state.secret == b"s" * 40
    assert not (tmp_path / SECRET_FILE).exists()
    with pytest.raises(ValueError, match="at least 32"):
        create_app(engine, settings=settings_for(tmp_path, api_secret=SecretStr("short")))


@pytest.mark.parametrize("secure", [True, False])
def test_secure_cookies_when_asked(engine: Engine, tmp_path: Path, secure: bool) -> None:
    app = create_app(engine, settings=settings_for(tmp_path, api_secure_cookies=secure))
    with TestClient(app) as client:  # plain http: only the setting makes them Secure
        answer = client.post("/api/login", json={"name": "sue", "password": PASSWORD})
        cookies = answer.headers.get_list("set-cookie")
        assert len(cookies) == 2 and all(("; secure" in c.lower()) is secure for c in cookies), cookies
        login_form = client.get("/login")
        assert ("; secure" in login_form.headers["set-cookie"].lower()) is secure


def test_the_knobs_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FTTHNOC_API_SECURE_COOKIES", "true")
    monkeypatch.setenv("FTTHNOC_API_KPI_CACHE_SECONDS", "120")
    monkeypatch.setenv("FTTHNOC_API_TRUSTED_PROXIES", "10.0.0.1, 192.168.10.0/24")
    monkeypatch.setenv("FTTHNOC_GRAFANA_URL", "https://grafana.town.example")
    settings = Settings()
    assert settings.api_secure_cookies is True and settings.api_kpi_cache_seconds == 120.0
    assert settings.api_trusted_proxies == ("10.0.0.1", "192.168.10.0/24")
    assert settings.grafana_url == "https://grafana.town.example"
    assert Settings(api_trusted_proxies="").api_trusted_proxies == ()
    monkeypatch.setenv("FTTHNOC_API_TRUSTED_PROXIES", "proxy.example")
    with pytest.raises(ValidationError):
        Settings()
