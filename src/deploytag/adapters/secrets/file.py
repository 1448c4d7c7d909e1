"""The embedded default secret store: one local YAML file, no cloud account needed.

The file maps a secret id to its variables, the same ids an AWS deployment would
use, so switching provider changes one line of configuration::

    staging/app:
      DATABASE_PASSWORD: s3cret
      API_KEY: abc123
    staging/extra:
      FEATURE_FLAGS: '{"beta": true}'

Rules (shared with the AWS store where they apply, see ``env_name_error`` and
``coerce_value``):

- ids are merged in the order given; a later id overrides an earlier one's key;
- keys must be environment variable names (``[A-Za-z_][A-Za-z0-9_]*``) because
  they end up as container environment variables, and Kubernetes would reject
  the Secret key or the container would not see it;
- values become strings: a string stays as it is, anything else is JSON-encoded
  (``true``, ``5``, ``[1, 2]``); an empty value (``KEY:``) is an error, since it
  is almost always a value someone forgot to fill in (write ``KEY: ''``);
- each id's version is the first 12 hex digits of the SHA-256 of its variables as
  canonical JSON, so changing any value changes the version and a redeploy with
  unchanged secrets can be skipped.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from deploytag.core import yamlio
from deploytag.core.errors import SecretStoreError, scrub
from deploytag.ports.secrets import SecretBundle

if TYPE_CHECKING:
    from deploytag.core.config import SecretsConfig

log = logging.getLogger(__name__)

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

FILE_FORMAT_HINT = "YAML mapping id -> {KEY: value}, e.g. 'staging/app: {DATABASE_PASSWORD: ...}'"


def env_name_error(name: object) -> str | None:
    """Why ``name`` cannot be an environment variable name, or None when it can."""
    if not isinstance(name, str):
        return f"key {name!r} is not a string"
    if not _ENV_NAME.fullmatch(name):
        # Key names are not secret, but a malformed "key" may be a value pasted in
        # the wrong place, so it is cut short and the caller scrubs the message.
        shown = name if len(name) <= 60 else name[:57] + "..."
        return f"key {shown!r} is not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)"
    return None


def coerce_value(value: object) -> str:
    """A variable's value as the string the container will see.

    Strings are kept verbatim; everything else is JSON-encoded so ``true`` stays
    ``true`` (not Python's ``True``) and structures stay machine-readable.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, _dt.date | _dt.datetime):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _json_default(value: object) -> Any:
    # YAML turns unquoted 2024-01-01 into a date, also inside lists; keep its text.
    if isinstance(value, _dt.date | _dt.datetime):
        return value.isoformat()
    raise TypeError(f"cannot use a value of type {type(value).__name__}")


def content_version(values: Mapping[str, str]) -> str:
    """Short content hash of one id's variables: changes whenever any value does."""
    canonical = json.dumps(dict(values), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


class FileSecretStore:
    """SecretStore over a local YAML file (``secrets.file``, default ``secrets.local.yaml``).

    The file is read on every call so an edit is picked up by the next deploy of a
    long-running process; it is small and reading it costs microseconds.
    """

    name = "file"

    def __init__(self, *, path: Path) -> None:
        self.path = path

    @classmethod
    def from_config(cls, *, config: SecretsConfig, root: Path) -> Self:
        """Build from ``secrets.*``; a relative ``secrets.file`` is relative to the app repository."""
        path = config.file if config.file.is_absolute() else root / config.file
        return cls(path=path)

    def __repr__(self) -> str:
        return f"FileSecretStore(path={str(self.path)!r})"

    def fetch(self, *, ids: Sequence[str]) -> SecretBundle:
        if not ids:
            return SecretBundle(values={}, versions={})
        document = self._load(ids=ids)
        merged: dict[str, str] = {}
        versions: dict[str, str] = {}
        for secret_id in ids:
            values = self._variables(document=document, secret_id=secret_id, known=merged.values())
            merged.update(values)
            versions[secret_id] = content_version(values)
            log.debug(
                "read %d variables from %s id %r (version %s)",
                len(values),
                self.path,
                secret_id,
                versions[secret_id],
            )
        return SecretBundle(values=merged, versions=versions)

    def describe_keys(self, *, ids: Sequence[str]) -> list[str]:
        return self.fetch(ids=ids).keys

    # ------------------------------------------------------------------ internals

    def _load(self, *, ids: Sequence[str]) -> Mapping[object, object]:
        import yaml  # only the file provider needs it at run time; keep CLI start-up lean

        wanted = ", ".join(repr(i) for i in ids)
        try:
            mode = self.path.stat().st_mode
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError as e:
            raise SecretStoreError(
                f"secrets file {self.path} not found (needed for id {wanted})",
                hint=f"create it ({FILE_FORMAT_HINT}, mode 0600), or set secrets.file, "
                "or choose another provider with secrets.provider",
            ) from e
        except UnicodeDecodeError as e:
            raise SecretStoreError(
                f"secrets file {self.path} is not UTF-8 text (byte {e.start})",
                hint="save it as UTF-8",
            ) from e
        except OSError as e:
            raise SecretStoreError(
                f"cannot read secrets file {self.path}: {e.strerror}",
                hint="check the path and that this user may read it",
            ) from e
        self._warn_if_exposed(mode=mode)
        try:
            document = yamlio.load(text)
        except yaml.YAMLError as e:
            # str(e) quotes the offending line, which may hold a value: report
            # only the position and the parser's description of the problem.
            mark = getattr(e, "problem_mark", None)
            where = f"{self.path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(self.path)
            problem = scrub(str(getattr(e, "problem", None) or "invalid YAML"))[:120]
            raise SecretStoreError(
                f"secrets file {where}: {problem}",
                hint=f"fix the YAML syntax ({FILE_FORMAT_HINT})",
            ) from None  # the YAML error's text would repeat the line: do not chain it
        if document is None:
            document = {}
        if not isinstance(document, dict):
            raise SecretStoreError(
                f"secrets file {self.path}: the top level must be a mapping of ids",
                hint=f"write it as a {FILE_FORMAT_HINT}",
            )
        return document

    def _warn_if_exposed(self, *, mode: int) -> None:
        # POSIX permission bits mean nothing on Windows; everywhere else a secrets
        # file others can read is a leak waiting to happen, but not a reason to fail
        # a deploy (CI checkouts often create files 0644).
        if os.name == "nt":
            return
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning(
                "secrets file %s is accessible by group or others (mode %03o); run: chmod 600 %s",
                self.path,
                stat.S_IMODE(mode),
                self.path,
            )

    def _variables(
        self, *, document: Mapping[object, object], secret_id: str, known: Iterable[str]
    ) -> dict[str, str]:
        if secret_id not in document:
            present = ", ".join(sorted(repr(str(k)) for k in document)) or "none"
            raise SecretStoreError(
                f"secret id {secret_id!r} not found in secrets file {self.path} (ids present: {present})",
                hint="add it to the file or fix secrets.ids",
            )
        entry = document[secret_id]
        if entry is None:
            entry = {}
        if not isinstance(entry, dict):
            raise SecretStoreError(
                f"secrets file {self.path}: id {secret_id!r} must be a mapping KEY -> value",
                hint=f"write it as a {FILE_FORMAT_HINT}",
            )
        values: dict[str, str] = {}
        for key, raw in entry.items():
            problem = env_name_error(key)
            if problem is not None:
                # A "key" that is really a value pasted one line up must not be echoed.
                visible = [*known, *(v for v in entry.values() if isinstance(v, str))]
                raise SecretStoreError(
                    scrub(f"secrets file {self.path}: id {secret_id!r}: {problem}", visible),
                    hint="rename it: use letters, digits and '_', not starting with a digit",
                )
            if raw is None:
                raise SecretStoreError(
                    f"secrets file {self.path}: id {secret_id!r}: key {key!r} has no value",
                    hint="fill it in, or write KEY: '' for a deliberately empty value",
                )
            try:
                values[key] = coerce_value(raw)
            except (TypeError, ValueError) as e:
                # The exception text names only the type (or a circular YAML alias), never the value.
                raise SecretStoreError(
                    f"secrets file {self.path}: id {secret_id!r}: key {key!r}: {e}",
                    hint="quote the value so it is a string",
                ) from e
        return values
