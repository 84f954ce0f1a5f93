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
