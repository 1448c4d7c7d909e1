"""CLI start-up: `deploytag --version` / `--help` against `helm version`.

Target: under 0.3 s absolute; SDKs (kubernetes, boto3) are imported only when
their adapter is used, which this also checks.
"""

from __future__ import annotations

import subprocess
import sys

from _util import VENV_BIN, compile_sources, costliest_imports, env, report, time_command


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    compile_sources()
    helm = time_command(["helm", "version"], runs=runs)
    for args in (["--version"], ["--help"]):
        ours = time_command([str(VENV_BIN / "deploytag"), *args], runs=runs)
        report(f"deploytag {' '.join(args)}", ours, helm, "helm version", "< 300 ms")
    probe = (
        "import sys, runpy; sys.argv=['deploytag','--help'];\n"
        "try:\n    runpy.run_module('deploytag', run_name='__main__')\nexcept SystemExit: pass\n"
        "heavy=[m for m in ('kubernetes','boto3','botocore','pydantic','rich') if m in sys.modules]\n"
        "print('HEAVY:' + ','.join(heavy))"
    )
    out = subprocess.run(
        [str(VENV_BIN / "python"), "-c", probe], env=env(), capture_output=True, text=True, check=True
    )
    marker = [line for line in out.stdout.splitlines() if line.startswith("HEAVY:")]
    heavy = marker[-1][len("HEAVY:") :] if marker else "?"
    print(f"modules imported by --help: {heavy or 'none of kubernetes/boto3/pydantic/rich'}")
    costliest_imports(["deploytag", "--help"], label="deploytag --help")


if __name__ == "__main__":
    main()
