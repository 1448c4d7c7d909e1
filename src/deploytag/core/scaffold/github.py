"""The GitHub Actions workflow ``deploytag init --ci github`` writes.

Push to a matching branch: deploy. Branch deleted, or pull request closed: destroy. Hourly:
``deploytag gc``. Checked by the real actionlint and by the GitHub-workflow JSON schema in
the tests (tests/init/test_init_ci_templates.py).
"""

from __future__ import annotations

from deploytag.core.scaffold.ci import CiSettings, github_branch_filters
from deploytag.core.scaffold.yamltext import flow_list

WORKFLOW_PATH = ".github/workflows/deploytag.yml"


def render_github(settings: CiSettings) -> str:
    branches = flow_list((*github_branch_filters(settings.previews), *settings.permanent))
    return (
        _HEADER.format(admin=_ADMIN_URL_LINE if settings.database else "")
        + _TRIGGERS.format(branches=branches)
        + _permissions(settings)
        + _JOB.format(
            job="deploy",
            comment=_DEPLOY_COMMENT,
            condition="github.event_name == 'push'",
            group="deploytag-${{ github.ref_name }}",
            steps=_steps(settings, ref=None, history=True),
            run="deploytag deploy",
            name="Deploy",
            env=_env(settings, registry=True),
        )
        + _JOB.format(
            job="destroy",
            comment=_DESTROY_COMMENT,
            condition=(
                "(github.event_name == 'delete' && github.event.ref_type == 'branch') || "
                "(github.event_name == 'pull_request' && "
                "github.event.pull_request.head.repo.full_name == github.repository)"
            ),
            group="deploytag-${{ github.event.ref || github.head_ref }}",
            steps=_steps(settings, ref="${{ github.event.repository.default_branch }}"),
            run='deploytag destroy --branch "$BRANCH"',
            name="Destroy",
            env=_env(settings, registry=False)
            + "          # On delete events github.event.ref is the deleted branch's short name.\n"
            "          BRANCH: ${{ github.event_name == 'delete' && github.event.ref || github.head_ref }}\n",
        )
        + _JOB.format(
            job="gc",
            comment="  # Environments whose branch or pull request is gone, or whose TTL passed.\n",
            condition="github.event_name == 'schedule' || github.event_name == 'workflow_dispatch'",
            group="deploytag:gc",  # ':' cannot be in a branch name: no clash with one called gc
            steps=_steps(settings, ref=None),
            run="deploytag gc",
            name="Garbage-collect environments",
            env=_env(settings, registry=False),
        ).rstrip("\n")
        + "\n"
    )


_ADMIN_URL_LINE = (
    "#   DEPLOYTAG_DATABASE_ADMIN_URL  admin URL of the database server the branch databases live on\n"
)

_HEADER = """\
# DeployTag: an environment per branch, written by `deploytag init --ci github`.
# Repository secrets it uses (Settings > Secrets and variables > Actions); docs/ci.md has the steps:
#   KUBECONFIG                    the text of a kubeconfig for the cluster (a ServiceAccount token)
{admin}#   REGISTRY_USERNAME/PASSWORD    credentials for the image registry (not needed for ghcr.io)
# The GITHUB_TOKEN is passed to DeployTag for the pull request comment and the commit status.
name: deploytag

"""

_TRIGGERS = """\
on:
  push:
    branches: {branches}  # deploytag.yaml's branches; others are skipped
  delete:  # a deleted branch: destroy its environment
  pull_request:
    types: [closed]  # merged or closed: destroy the branch's environment
  schedule:
    - cron: "17 * * * *"  # hourly: deploytag gc
  workflow_dispatch:

"""


def _permissions(settings: CiSettings) -> str:
    packages = (
        "  packages: write  # pushing images to ghcr.io with the GITHUB_TOKEN\n"
        if settings.registry_host == "ghcr.io"
        else ""
    )
    return (
        "# Only what DeployTag uses; nothing else is granted to the token.\n"
        "permissions:\n"
        "  contents: read\n"
        "  pull-requests: write  # the pull request comment: deploying, ready (URLs), failed, destroyed\n"
        "  statuses: write  # a commit status linking the environment\n"
        "  deployments: write  # GitHub deployments; DeployTag's own feedback needs only the two above\n"
        f"{packages}"
        "\n"
        "jobs:\n"
    )


_DEPLOY_COMMENT = """\
  # One group per branch, and a running deploy is never cancelled: a run killed halfway leaves
  # helm mid-upgrade and its lease to expire. DeployTag serialises runs of one environment with
  # a Kubernetes Lease and the newest push wins (an older commit is skipped), so GitHub need
  # only queue; a pending run is replaced by a newer one anyway.
"""

_DESTROY_COMMENT = """\
  # Same group as the branch's deploys, so a destroy waits for a deploy in progress. The
  # configuration comes from the default branch: the deleted branch cannot be checked out.
  # Pull requests from forks are left alone: their branches are not deployed here.
"""

_JOB = """\
{comment}  {job}:
    if: {condition}
    runs-on: ubuntu-latest
    timeout-minutes: 30
    concurrency:
      group: {group}
      cancel-in-progress: false
    steps:
{steps}      - name: {name}
        env:
{env}        run: {run}

"""


def _steps(settings: CiSettings, *, ref: str | None, history: bool = False) -> str:
    options = (f"          ref: {ref}\n" if ref else "") + (
        "          fetch-depth: 0  # the history: an older commit never replaces a newer one\n"
        if history
        else ""
    )
    checkout = "      - uses: actions/checkout@v4\n" + (f"        with:\n{options}" if options else "")
    toolchains = ""
    if "node" in settings.setup:
        toolchains += '      - uses: actions/setup-node@v4\n        with:\n          node-version: "22"\n'
    if "go" in settings.setup:
        toolchains += "      - uses: actions/setup-go@v5\n        with:\n          go-version-file: go.mod\n"
    return (
        checkout
        + '      - uses: actions/setup-python@v5\n        with:\n          python-version: "3.12"\n'
        + toolchains
        + "      - uses: azure/setup-helm@v4\n"
        + f"      - run: pip install '{settings.package}'\n"
        + "      - name: Cluster credentials\n"
        + "        env:\n"
        + "          KUBECONFIG_TEXT: ${{ secrets.KUBECONFIG }}\n"
        + "        run: |\n"
        + "          umask 077\n"
        + '          printf \'%s\\n\' "$KUBECONFIG_TEXT" > "$RUNNER_TEMP/kubeconfig"\n'
        + '          echo "KUBECONFIG=$RUNNER_TEMP/kubeconfig" >> "$GITHUB_ENV"\n'
    )


def _env(settings: CiSettings, *, registry: bool) -> str:
    lines = ["          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}"]
    if settings.database:
        lines.append("          DEPLOYTAG_DATABASE_ADMIN_URL: ${{ secrets.DEPLOYTAG_DATABASE_ADMIN_URL }}")
    if registry and settings.registry is not None:
        if settings.registry_host == "ghcr.io":
            lines += [
                "          DEPLOYTAG_REGISTRY_USERNAME: ${{ github.actor }}",
                "          DEPLOYTAG_REGISTRY_PASSWORD: ${{ secrets.GITHUB_TOKEN }}",
            ]
        else:
            lines += [
                "          DEPLOYTAG_REGISTRY_USERNAME: ${{ secrets.REGISTRY_USERNAME }}",
                "          DEPLOYTAG_REGISTRY_PASSWORD: ${{ secrets.REGISTRY_PASSWORD }}",
            ]
    return "\n".join(lines) + "\n"
