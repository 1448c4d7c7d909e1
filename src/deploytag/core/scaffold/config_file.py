"""The commented ``deploytag.yaml`` written by ``deploytag init``.

Built line by line so every choice carries a comment saying what it was found from; the
service checks the text against the schema before writing it, so ``deploytag plan`` accepts it.
"""

from __future__ import annotations

from deploytag.core.scaffold.facts import RepoFacts
from deploytag.core.scaffold.remote import registry_for
from deploytag.core.scaffold.yamltext import comment, flow_list, scalar

PREVIEWS = ("epic/*", "bug/*", "feature/*")  # DeployTag's convention (the schema's default)
PERMANENT = {"main": "staging"}
TTL_HOURS = 168


def render_config(facts: RepoFacts) -> str:
    sections = [
        _header(facts),
        _branches(),
        _chart(facts),
        _images(facts),
        _test(facts),
        _secrets(facts),
        _database(facts),
        _dns(facts),
        f"# A preview not deployed for a week may be removed by `deploytag gc`.\nttl_hours: {TTL_HOURS}\n",
    ]
    return "\n".join(sections)


def _header(facts: RepoFacts) -> str:
    return (
        "# DeployTag configuration, written by `deploytag init` from what it found here.\n"
        "# Every key, its default and why: docs/configuration.md. Try it: deploytag plan --branch feature/try\n"
        f"app: {scalar(facts.app)}  # prefixes every name: namespace, release, database, images\n"
    )


def _branches() -> str:
    lines = [
        "branches:",
        "  # Every matching branch gets its own preview environment; these branches feed permanent ones.",
        f"  previews: {flow_list(PREVIEWS)}",
        "  permanent:",
    ]
    for branch, environment in PERMANENT.items():
        lines += [f"    {scalar(branch)}:", f"      environment: {scalar(environment)}"]
    return "\n".join(lines) + "\n"


def _chart(facts: RepoFacts) -> str:
    also = f" (also found: {', '.join(map(str, facts.other_charts))})" if facts.other_charts else ""
    lines = ["chart:", f"  path: {scalar(str(facts.chart))}  # found {facts.chart}/Chart.yaml{also}"]
    if facts.values:
        lines.append("  values:  # applied to every environment, after the chart's values.yaml")
        lines += [f"    - {scalar(str(p))}" for p in facts.values]
    else:
        lines.append("  values: []  # files applied to every environment, e.g. deploy/values-common.yaml")
    if facts.environment_values:
        lines.append("  environments:  # applied after the common ones: preview, or a permanent environment")
        for name, paths in facts.environment_values.items():
            lines.append(f"    {scalar(name)}:")
            lines += [f"      - {scalar(str(p))}" for p in paths]
    else:
        lines.append("  environments: {}  # e.g. preview: [deploy/values-preview.yaml]")
    return "\n".join(lines) + "\n"


def _images(facts: RepoFacts) -> str:
    if not facts.images:
        return "images: {}  # no Dockerfile found: the chart deploys the images it names itself\n"
    repository, guessed = registry_for(facts.remote, facts.app)
    where = (
        "CHANGE THIS: a registry the cluster can pull from"
        if guessed
        else "the git remote's registry; the cluster must be able to pull from it"
    )
    lines = ["images:"]
    for image in facts.images:
        repo = repository if image.name == "app" else f"{repository}/{image.name}"
        base = (
            f"{scalar(str(image.base_dockerfile))}  # built only when its content hash is new"
            if image.base_dockerfile
            else "null  # no Dockerfile.base beside it: one build per deploy"
        )
        lines += [
            f"  {scalar(image.name)}:",
            f"    repository: {scalar(repo)}  # {where}",
            f"    dockerfile: {scalar(str(image.dockerfile))}",
            f"    base_dockerfile: {base}",
            f"    context: {scalar(str(image.context))}",
            "    values_key: image  # DeployTag sets image.repository, image.tag and image.digest",
        ]
    return "\n".join(lines) + "\n"


def _test(facts: RepoFacts) -> str:
    others = ", ".join(" ".join(t.command) for t in facts.other_tests)
    also = comment(f"also found: {others}", indent=2) + "\n" if others else ""
    if facts.test is None:
        return (
            "test:\n"
            "  # No test command found (looked for a Makefile test target, package.json scripts.test,\n"
            '  # pytest configuration, go.mod, tests/): deploys are not gated. E.g. ["make", "test"]\n'
            "  command: null\n"
        )
    return (
        "test:\n"
        f"  command: {flow_list(facts.test.command)}  # found: {facts.test.reason}; a failure stops the deploy\n"
        f"{also}"
        "  timeout_seconds: 900\n"
    )


def _secrets(facts: RepoFacts) -> str:
    ids = flow_list(facts.secret_ids)
    found = "ids in secrets.local.yaml" if facts.secret_ids else "store ids merged in order, e.g. staging/app"
    return (
        "secrets:\n"
        "  # The embedded file store (secrets.local.yaml, chmod 600, never committed with real values).\n"
        "  # In CI use AWS Secrets Manager: provider: aws (or --cloud aws --cloud-aws-secret-id ID).\n"
        "  provider: file\n"
        f"  ids: {ids}  # {found}\n"
        "  file: secrets.local.yaml\n"
        "  values_key: envSecretName  # the chart mounts the Secret named here (envFrom)\n"
    )


def _database(facts: RepoFacts) -> str:
    engine = facts.database_engine
    migrations = facts.migrations
    if migrations is None:
        hint = (
            f"{engine}: {facts.engine_reason}, but no migrations"
            if engine
            else "no migrations found (alembic.ini, Django's manage.py, migrations/)"
        )
        return (
            f"# database: a database and role per preview on an existing server ({hint}):\n"
            f'# database:\n#   engine: {engine or "postgres"}\n#   migrate: ["alembic", "upgrade", "head"]\n'
        )
    migrate = (
        f"  migrate: {flow_list(migrations.command)}  # found: {migrations.reason}; a Job with the new image\n"
        if migrations.command
        else f"  # migrate: [...]  # {migrations.reason}: put the command that applies them here\n"
    )
    return (
        "database:\n"
        "  # A database and role per preview on an existing server. The admin URL comes from the\n"
        "  # environment (DEPLOYTAG_DATABASE_ADMIN_URL), never from this file or a flag.\n"
        f"  engine: {engine}  # {facts.engine_reason}\n"
        f"{migrate}"
    )


def _dns(facts: RepoFacts) -> str:
    return (
        "# DNS names for each environment (cloudflare, route53, rfc2136 or powerdns); the zone id and\n"
        "# token are per installation (DEPLOYTAG_DNS__ZONE_ID, CLOUDFLARE_API_TOKEN). docs/dns.md.\n"
        "# dns:\n"
        "#   provider: cloudflare\n"
        "#   zone: example.com\n"
        f'#   records: ["{{.Branch}}-{facts.app}"]\n'
    )
