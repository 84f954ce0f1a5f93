import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from topleft.env import env_bool, env_float, env_int


def test_it_reads_typed_values(monkeypatch):
    monkeypatch.setenv("X_INT", "7")
    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_FLOAT", "0.25")
    assert env_int("X_INT", 1) == 7
    assert env_bool("X_BOOL") is True
    assert env_float("X_FLOAT", 0.5) == 0.25
    assert env_int("X_MISSING", 3) == 3


def test_it_takes_an_empty_value_as_unset(monkeypatch):
    monkeypatch.setenv("X_EMPTY", " ")
    assert env_bool("X_EMPTY", True) is True and env_int("X_EMPTY", 4) == 4


@pytest.mark.parametrize(
    "reader, raw",
    [
        (lambda: env_int("X", 1), "seven"),
        (lambda: env_int("X", 1, minimum=5), "2"),
        (lambda: env_bool("X"), "maybe"),
        (lambda: env_float("X", 0.5, maximum=1.0), "1.5"),
        (lambda: env_float("X", 0.5), "half"),
    ],
)
def test_it_fails_loudly_on_bad_values(monkeypatch, reader, raw):
    monkeypatch.setenv("X", raw)
    with pytest.raises(ImproperlyConfigured):
        reader()


def test_it_documents_every_environment_variable_the_code_reads():
    root = Path(__file__).resolve().parent.parent
    reads = re.compile(r"""(?:env_\w+\(|environ\.get\(|environ\[|getenv\()\s*["']([A-Z][A-Z0-9_]+)["']""")
    names = set()
    for package in ("topleft", "sync", "psa", "boards"):
        for source in (root / package).rglob("*.py"):
            names.update(reads.findall(source.read_text()))
    names -= {"DJANGO_SETTINGS_MODULE", "X"}
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (root / ".env.example").read_text(), re.M))
    assert len(names) > 15
    assert names - documented == set()
    # ... and vice versa: a documented variable nothing reads misleads whoever sets it.
    assert documented - names == set()


def test_it_uses_every_setting_of_its_own_it_reads_from_the_environment():
    # A setting read into topleft/settings.py but used nowhere looks like a knob and does nothing.
    root = Path(__file__).resolve().parent.parent
    settings_text = (root / "topleft" / "settings.py").read_text()
    own = re.findall(r"^((?:SYNC|PSA|REALTIME|READYZ|LOGIN)_[A-Z0-9_]+) = env_", settings_text, re.M)
    code = "\n".join(
        source.read_text()
        for package in ("topleft", "sync", "psa", "boards")
        for source in (root / package).rglob("*.py")
        if source.name != "settings.py"
    )
    assert len(own) >= 8
    used = [name for name in own if f"settings.{name}" in code or f'settings, "{name}"' in code]
    assert sorted(set(own) - set(used)) == []


def _load_settings_module():
    # Execute topleft/settings.py afresh under another name (the live settings stay untouched).
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "topleft" / "settings.py"
    spec = importlib.util.spec_from_file_location("topleft_settings_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "name, raw",
    [
        ("REDIS_URL", "localhost:6379"),
        ("PUBLIC_URL", "topleft.example.com"),
        ("FIELD_ENCRYPTION_KEY", "too-short"),
    ],
)
def test_it_refuses_bad_urls_and_keys_at_start_up(monkeypatch, name, raw):
    monkeypatch.setenv("DEBUG", "1")
    monkeypatch.setenv(name, raw)
    with pytest.raises(ImproperlyConfigured, match=name):
        _load_settings_module()


def test_it_accepts_good_urls_and_keys(monkeypatch):
    monkeypatch.setenv("DEBUG", "1")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("PUBLIC_URL", "https://topleft.example.com/")
    monkeypatch.setenv("FIELD_ENCRYPTION_KEY", "A" * 43 + "=")
    module = _load_settings_module()
    assert module.PUBLIC_URL == "https://topleft.example.com"
    assert module.CELERY_BROKER_URL == "redis://127.0.0.1:6379/3"
