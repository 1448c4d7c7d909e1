"""FileSecretStore: the embedded default provider, a local YAML file."""

from __future__ import annotations

import hashlib
import logging
import os
import traceback
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from deploytag.adapters.secrets.file import FileSecretStore, content_version
from deploytag.core.config import SecretsConfig
from deploytag.core.errors import SecretStoreError

DB_PASSWORD = "pw-Zq81!vX$hunter2-database"
API_KEY = "ak-9f3e0c7d-very-secret-api-key"

posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")


def write(path: Path, document: object, *, mode: int = 0o600) -> Path:
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    path.chmod(mode)
    return path


@pytest.fixture
def secrets_file(tmp_path: Path) -> Path:
    return write(
        tmp_path / "secrets.local.yaml",
        {
            "staging/app": {"DATABASE_PASSWORD": DB_PASSWORD, "API_KEY": API_KEY, "SHARED": "from-app"},
            "staging/extra": {"SHARED": "from-extra", "PORT": 5432, "DEBUG": True, "LIST": [1, "a"]},
        },
    )


def test_happy_path_merges_in_order(secrets_file: Path) -> None:
    store = FileSecretStore(path=secrets_file)
    bundle = store.fetch(ids=["staging/app", "staging/extra"])
    assert dict(bundle.values) == {
        "DATABASE_PASSWORD": DB_PASSWORD,
        "API_KEY": API_KEY,
        "SHARED": "from-extra",
        "PORT": "5432",
        "DEBUG": "true",
        "LIST": '[1,"a"]',
    }
    assert set(bundle.versions) == {"staging/app", "staging/extra"}
    assert all(len(v) == 12 and int(v, 16) >= 0 for v in bundle.versions.values())
    assert store.fetch(ids=["staging/extra", "staging/app"]).values["SHARED"] == "from-app"
    assert DB_PASSWORD not in repr(bundle)
    assert store.describe_keys(ids=["staging/app"]) == ["API_KEY", "DATABASE_PASSWORD", "SHARED"]


def test_unquoted_dates_keep_their_text(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("staging/app:\n  SINCE: 2024-01-31\n  EMPTY: ''\n", encoding="utf-8")
    path.chmod(0o600)
    assert dict(FileSecretStore(path=path).fetch(ids=["staging/app"]).values) == {
        "SINCE": "2024-01-31",
        "EMPTY": "",
    }


def test_version_changes_with_any_value_and_only_then(secrets_file: Path) -> None:
    store = FileSecretStore(path=secrets_file)
    before = store.fetch(ids=["staging/app", "staging/extra"]).versions
    assert store.fetch(ids=["staging/app", "staging/extra"]).versions == before

    document = yaml.safe_load(secrets_file.read_text())
    # Reordering keys is not a change; YAML 5432 and '5432' give the same variable.
    document["staging/app"] = dict(reversed(list(document["staging/app"].items())))
    document["staging/extra"]["PORT"] = "5432"
    write(secrets_file, document)
    assert store.fetch(ids=["staging/app", "staging/extra"]).versions == before

    document["staging/app"]["API_KEY"] = "rotated"
    write(secrets_file, document)
    after = store.fetch(ids=["staging/app", "staging/extra"]).versions
    assert after["staging/app"] != before["staging/app"]
    assert after["staging/extra"] == before["staging/extra"]


def test_version_is_sha256_of_canonical_json() -> None:
    expected = hashlib.sha256(b'{"A":"1","B":"x"}').hexdigest()[:12]
    assert content_version({"B": "x", "A": "1"}) == expected
    assert content_version({"A": "1", "B": "x"}) == expected


def test_from_config_resolves_relative_to_the_repo(tmp_path: Path) -> None:
    store = FileSecretStore.from_config(config=SecretsConfig(), root=tmp_path)
    assert store.path == tmp_path / "secrets.local.yaml"
    absolute = tmp_path / "elsewhere.yaml"
    assert (
        FileSecretStore.from_config(config=SecretsConfig(file=absolute), root=Path("/repo")).path == absolute
    )


def test_no_ids_reads_nothing(tmp_path: Path) -> None:
    assert dict(FileSecretStore(path=tmp_path / "absent.yaml").fetch(ids=[]).values) == {}


# --------------------------------------------------------------------------- errors


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(SecretStoreError) as info:
        FileSecretStore(path=path).fetch(ids=["staging/app"])
    e = info.value
    assert str(path) in e.message
    assert "'staging/app'" in e.message
    assert e.hint is not None
    assert "secrets.file" in e.hint
    assert not e.retryable


def test_missing_id_names_file_and_id_but_no_value(secrets_file: Path) -> None:
    with pytest.raises(SecretStoreError) as info:
        FileSecretStore(path=secrets_file).fetch(ids=["staging/app", "prod/app"])
    e = info.value
    assert "'prod/app'" in e.message
    assert str(secrets_file) in e.message
    assert "'staging/extra'" in e.message  # the ids that do exist, to spot a typo
    assert e.hint is not None
    assert "secrets.ids" in e.hint
    assert DB_PASSWORD not in str(e)
    assert API_KEY not in str(e)


@pytest.mark.parametrize("key", ["bad-key", "1ABC", "WITH SPACE", "ÄKEY", ""])
def test_invalid_key_is_named(tmp_path: Path, key: str) -> None:
    path = write(tmp_path / "s.yaml", {"staging/app": {"OK": API_KEY, key: DB_PASSWORD}})
    with pytest.raises(SecretStoreError, match="not a valid environment variable name") as info:
        FileSecretStore(path=path).fetch(ids=["staging/app"])
    assert repr(key) in info.value.message
    assert DB_PASSWORD not in str(info.value)


def test_non_string_key(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("staging/app:\n  42: x\n", encoding="utf-8")
    with pytest.raises(SecretStoreError, match="key 42 is not a string"):
        FileSecretStore(path=path).fetch(ids=["staging/app"])


def test_pasted_value_as_key_is_scrubbed(tmp_path: Path) -> None:
    # A value that ended up as a key (bad indentation) must not be echoed if it is
    # also a value somewhere in the same id.
    path = write(tmp_path / "s.yaml", {"staging/app": {"TOKEN": API_KEY, API_KEY: "x"}})
    with pytest.raises(SecretStoreError) as info:
        FileSecretStore(path=path).fetch(ids=["staging/app"])
    assert API_KEY not in str(info.value)
    assert "[redacted]" in str(info.value)


def test_empty_value_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("staging/app:\n  API_KEY:\n", encoding="utf-8")
    with pytest.raises(SecretStoreError, match="'API_KEY' has no value") as info:
        FileSecretStore(path=path).fetch(ids=["staging/app"])
    assert info.value.hint is not None
    assert "''" in info.value.hint


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- just\n- a list\n", "top level must be a mapping"),
        ("staging/app: [1, 2]\n", "must be a mapping KEY -> value"),
        ("staging/app:\n  BLOB: !!binary aGVsbG8=\n", "type bytes"),
    ],
)
def test_malformed_documents(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SecretStoreError, match=problem) as info:
        FileSecretStore(path=path).fetch(ids=["staging/app"])
    assert info.value.hint


def test_yaml_syntax_error_does_not_echo_the_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(f'staging/app:\n  API_KEY: "{API_KEY}\n  OTHER: [unclosed\n', encoding="utf-8")
    with pytest.raises(SecretStoreError) as info:
        FileSecretStore(path=path).fetch(ids=["staging/app"])
    e = info.value
    assert str(path) in e.message
    assert API_KEY not in "".join(traceback.format_exception(e))
    assert e.__cause__ is None  # the YAML error's mark holds the whole file


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(b"staging/app:\n  K: \xff\xfe\n")
    with pytest.raises(SecretStoreError, match="not UTF-8"):
        FileSecretStore(path=path).fetch(ids=["staging/app"])


# --------------------------------------------------------------------------- permissions and logs


@posix_only
def test_group_or_world_readable_file_warns(secrets_file: Path, caplog: pytest.LogCaptureFixture) -> None:
    secrets_file.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="deploytag"):
        FileSecretStore(path=secrets_file).fetch(ids=["staging/app"])
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert str(secrets_file) in message
    assert "644" in message
    assert "chmod 600" in message


@posix_only
def test_private_file_does_not_warn(secrets_file: Path, caplog: pytest.LogCaptureFixture) -> None:
    secrets_file.chmod(0o600)
    with caplog.at_level(logging.DEBUG, logger="deploytag"):
        FileSecretStore(path=secrets_file).fetch(ids=["staging/app"])
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_values_never_appear_in_logs_or_errors(secrets_file: Path, caplog: pytest.LogCaptureFixture) -> None:
    secrets_file.chmod(0o640)
    store = FileSecretStore(path=secrets_file)
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        store.fetch(ids=["staging/app", "staging/extra"])
        for ids in (["staging/app", "nope"], ["staging/extra", "staging/app", ""]):
            with pytest.raises(SecretStoreError) as info:
                store.fetch(ids=ids)
            texts += [str(info.value), repr(info.value), "".join(traceback.format_exception(info.value))]
    assert caplog.records  # debug lines were written
    texts += [r.getMessage() for r in caplog.records]
    for text in texts:
        assert DB_PASSWORD not in text
        assert API_KEY not in text


# --------------------------------------------------------------------------- property


env_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,30}", fullmatch=True)
# Surrogates cannot be written as UTF-8; everything else YAML must carry verbatim.
any_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=80)


@settings(max_examples=300, deadline=None)
@given(
    first=st.dictionaries(env_names, any_text, max_size=8),
    second=st.dictionaries(env_names, any_text, max_size=8),
)
def test_arbitrary_values_round_trip(
    tmp_path_factory: pytest.TempPathFactory, first: dict[str, str], second: dict[str, str]
) -> None:
    path = tmp_path_factory.getbasetemp() / "round-trip.yaml"
    # Double-quoted style: PyYAML's emitter writes NEL (U+0085) raw in single-quoted
    # scalars with allow_unicode, where its own reader folds it to a space.
    text = yaml.safe_dump(
        {"staging/app": first, "staging/extra": second}, allow_unicode=True, default_style='"'
    )
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    bundle = FileSecretStore(path=path).fetch(ids=["staging/app", "staging/extra"])
    assert dict(bundle.values) == {**first, **second}
    assert bundle.versions["staging/app"] == content_version(first)


def test_a_run_reads_each_set_of_ids_once(tmp_path: Path, secrets_file: Path) -> None:
    """Preflight and the secrets step ask for the same ids: the run's store answers from its first read."""
    from deploytag.service.wiring import Invocation, build_providers, load

    (tmp_path / "deploytag.yaml").write_text(
        "app: guestbook\nsecrets:\n  provider: file\n  file: secrets.local.yaml\n  ids: [staging/app]\n"
    )
    inv = Invocation(repo=tmp_path, environ={})
    store = build_providers(inv, load(inv)).secret_store
    first = store.fetch(ids=["staging/app"])
    write(secrets_file, {"staging/app": {"API_KEY": "rotated"}, "staging/extra": {"PORT": 1}})
    assert store.fetch(ids=["staging/app"]) == first  # same run: not read again
    assert store.fetch(ids=["staging/app", "staging/extra"]) != first  # other ids: read
    fresh = build_providers(inv, load(inv)).secret_store  # the next run sees the rotation
    assert fresh.fetch(ids=["staging/app"]).values == {"API_KEY": "rotated"}
