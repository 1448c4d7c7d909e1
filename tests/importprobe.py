"""Which modules a `deploytag` command line imports: the CLI run in a fresh interpreter that prints
``sys.modules`` on its way out (stderr, last line), with the same environment as the command."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

MARK = "IMPORTED:"

PROBE = f"""
import sys
from deploytag.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit as e:
    code = e.code
print({MARK!r} + ",".join(sorted(sys.modules)), file=sys.stderr)
sys.exit(code)
"""


def imported_by(args: Sequence[str], *, env: dict[str, str], cwd: Path | None = None) -> tuple[int, set[str]]:
    """(exit status, modules imported) of ``deploytag ARGS``."""
    status, line = _probe(PROBE, MARK, args, env=env, cwd=cwd)
    return status, set(line.split(","))


def _probe(
    code: str, mark: str, args: Sequence[str], *, env: dict[str, str], cwd: Path | None
) -> tuple[int, str]:
    """Run ``code`` as the CLI with ``args``; (exit status, the last stderr line marked ``mark``)."""
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    lines = [line for line in proc.stderr.splitlines() if line.startswith(mark)]
    assert lines, proc.stderr[-2000:]
    return proc.returncode, lines[-1][len(mark) :]


def loaded(modules: set[str], prefixes: Sequence[str]) -> list[str]:
    """The modules (or packages) of ``prefixes`` found among ``modules``."""
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


def _audited(mark: str, hook: str) -> str:
    """A probe that runs the CLI with ``hook`` (defining ``hook(event, args)`` that appends to
    ``seen``) as an audit hook and prints ``seen`` as JSON after ``mark`` on its way out."""
    return (
        "import json, os, sys\nseen = []\n"
        + hook
        + f"""
sys.addaudithook(hook)
from deploytag.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit as e:
    code = e.code
print({mark!r} + json.dumps(seen), file=sys.stderr)
sys.exit(code)
"""
    )


PROCESS_PROBE = _audited(
    "STARTED:",
    """
def hook(event, args):
    if event == "subprocess.Popen":
        argv = [str(a) for a in (args[1] if isinstance(args[1], (list, tuple)) else [args[1]])]
        seen.append([os.path.basename(argv[0]), *argv[1:2]])
""",
)

REQUEST_PROBE = _audited(
    "SENT:",
    """
def hook(event, args):
    if event == "http.client.send":
        line = bytes(args[1]).split(b"\\r\\n", 1)[0].decode("latin-1")
        method, _, rest = line.partition(" ")
        if method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            seen.append([method, rest.rsplit(" ", 1)[0].split("?", 1)[0]])
""",
)


def started_by(
    args: Sequence[str], *, env: dict[str, str], cwd: Path | None = None
) -> tuple[int, list[list[str]]]:
    """(exit status, [program name, first argument] of each process started) of ``deploytag ARGS``."""
    status, line = _probe(PROCESS_PROBE, "STARTED:", args, env=env, cwd=cwd)
    return status, json.loads(line)


def requests_by(
    args: Sequence[str], *, env: dict[str, str], cwd: Path | None = None
) -> tuple[int, list[list[str]]]:
    """(exit status, [method, path] of each HTTP request sent) of ``deploytag ARGS``."""
    status, line = _probe(REQUEST_PROBE, "SENT:", args, env=env, cwd=cwd)
    return status, json.loads(line)
