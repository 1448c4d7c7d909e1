"""Detection over small repositories on disk, and the rendered deploytag.yaml through the real loader."""

from __future__ import annotations

from pathlib import Path

import pytest
from initrepos import chart, make_repo

from deploytag.core.config.loader import load_config
from deploytag.core.errors import ChartError, ExitStatus, UsageError
from deploytag.core.scaffold.ci import check_ci, github_branch_filters, gitlab_branch_regex
from deploytag.core.scaffold.config_file import render_config
from deploytag.core.scaffold.detect import app_name, detect
from deploytag.core.scaffold.remote import parse_remote, registry_for


@pytest.mark.parametrize("place", ["chart", "charts/web", "helm"])
def test_the_chart_is_found_in_each_place(tmp_path: Path, place: str) -> None:
    facts = detect(make_repo(tmp_path, chart(place)))
    assert facts.chart == Path(place)


def test_several_charts_take_the_first_place_and_report_the_others(tmp_path: Path) -> None:
    facts = detect(make_repo(tmp_path, {**chart("charts/b"), **chart("charts/a"), **chart("helm")}))
    assert facts.chart == Path("charts/a")
    assert facts.other_charts == (Path("charts/b"), Path("helm"))


def test_no_chart_names_every_place_looked_in(tmp_path: Path) -> None:
    make_repo(tmp_path, {"Dockerfile": "FROM scratch\n", "charts/notes.txt": "", "helm/values.yaml": ""})
    with pytest.raises(ChartError) as err:
        detect(tmp_path)
    assert err.value.exit_status == ExitStatus.CHART
    text = str(err.value)
    assert "\n" not in text
    for place in ("chart/Chart.yaml", "charts/*/Chart.yaml", "helm/Chart.yaml"):
        assert place in text


def test_values_files_split_into_common_and_per_environment(tmp_path: Path) -> None:
    facts = detect(
        make_repo(
            tmp_path,
            {
                **chart(),
                "deploy/values-common.yaml": "",
                "deploy/values-preview.yaml": "",
                "deploy/values.staging.yaml": "",
                "chart/values-production.yaml": "",
                "deploy/notes.yaml": "",
            },
        )
    )
    assert facts.values == (Path("deploy/values-common.yaml"),)
    assert facts.environment_values == {
        "preview": (Path("deploy/values-preview.yaml"),),
        "production": (Path("chart/values-production.yaml"),),
        "staging": (Path("deploy/values.staging.yaml"),),
    }


def test_dockerfiles_become_images_with_their_base(tmp_path: Path) -> None:
    facts = detect(
        make_repo(
            tmp_path,
            {
                **chart(),
                "Dockerfile": "FROM base\n",
                "Dockerfile.base": "FROM python\n",
                "Dockerfile.worker": "FROM base\n",
                "Dockerfile.dev": "FROM python\n",
                "api/Dockerfile": "FROM node\n",
                "api/Dockerfile.base": "FROM node\n",
                "node_modules/x/Dockerfile": "",
                "chart/Dockerfile": "FROM scratch\n",
            },
        )
    )
    images = {i.name: i for i in facts.images}
    assert list(images) == ["app", "worker", "api"]
    assert images["app"].base_dockerfile == Path("Dockerfile.base")
    assert images["worker"].base_dockerfile == Path("Dockerfile.base")
    assert (images["api"].dockerfile, images["api"].base_dockerfile, images["api"].context) == (
        Path("api/Dockerfile"),
        Path("api/Dockerfile.base"),
        Path("api"),
    )


TEST_REPOS = [
    ({"Makefile": "lint:\n\truff .\ntest: lint\n\tpytest\n", "go.mod": "module x\n"}, ("make", "test")),
    ({"Makefile": "TEST := 1\nbuild:\n\tgo build\n", "go.mod": "module x\n"}, ("go", "test", "./...")),
    ({"package.json": '{"scripts": {"test": "jest"}}'}, ("npm", "test")),
    ({"package.json": '{"scripts": {"test": "echo \\"Error: no test specified\\" && exit 1"}}'}, None),
    ({"pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-q'\n"}, ("python", "-m", "pytest")),
    ({"pytest.ini": "[pytest]\n"}, ("python", "-m", "pytest")),
    ({"tests/test_a.py": "import pytest\n"}, ("python", "-m", "pytest")),
    (
        {"tests/test_a.py": "import unittest\n"},
        ("python", "-m", "unittest", "discover", "-s", "tests"),
    ),
    ({"README.md": "no tests\n"}, None),
]


@pytest.mark.parametrize(("files", "command"), TEST_REPOS)
def test_the_test_command(tmp_path: Path, files: dict[str, str], command: tuple[str, ...] | None) -> None:
    facts = detect(make_repo(tmp_path, {**chart(), **files}))
    assert (facts.test.command if facts.test else None) == command


def test_other_test_commands_are_reported(tmp_path: Path) -> None:
    facts = detect(make_repo(tmp_path, {**chart(), "Makefile": "test:\n\tx\n", "go.mod": "module x\n"}))
    assert [t.command for t in facts.other_tests] == [("go", "test", "./...")]


MIGRATION_REPOS = [
    (
        {"alembic.ini": "[alembic]\nsqlalchemy.url = postgresql://x\n"},
        ("alembic", "upgrade", "head"),
        "postgres",
    ),
    (
        {"manage.py": "import django\n", "requirements.txt": "Django\nmysqlclient\n"},
        ("python", "manage.py", "migrate", "--noinput"),
        "mysql",
    ),
    (
        {"migrate.py": "", "migrations/001.sql": "", "requirements.txt": "psycopg\n"},
        ("python", "migrate.py"),
        "postgres",
    ),
    ({"migrations/001.sql": ""}, None, "postgres"),  # no runner, no driver: engine guessed
]


@pytest.mark.parametrize(("files", "command", "engine"), MIGRATION_REPOS)
def test_migrations_and_database_engine(
    tmp_path: Path, files: dict[str, str], command: tuple[str, ...] | None, engine: str
) -> None:
    facts = detect(make_repo(tmp_path, {**chart(), **files}))
    assert facts.migrations is not None
    assert facts.migrations.command == command
    assert facts.database_engine == engine


def test_no_migrations_no_database(tmp_path: Path) -> None:
    facts = detect(make_repo(tmp_path, {**chart(), "manage.py": "print('a CLI of its own')\n"}))
    assert facts.migrations is None
    assert facts.database_engine is None


@pytest.mark.parametrize(
    ("url", "host", "path"),
    [
        ("git@github.com:Acme/Web-App.git", "github.com", "Acme/Web-App"),
        ("https://github.com/acme/web.git", "github.com", "acme/web"),
        ("https://user:s3cr3t-token@gitlab.com/group/sub/proj.git", "gitlab.com", "group/sub/proj"),
        ("ssh://git@gitlab.example.com:2222/team/app.git", "gitlab.example.com", "team/app"),
    ],
)
def test_remote_urls(url: str, host: str, path: str) -> None:
    remote = parse_remote(url)
    assert remote is not None
    assert (remote.host, remote.path) == (host, path)
    assert "s3cr3t" not in remote.url


@pytest.mark.parametrize("url", ["/srv/git/app.git", "../app", ""])
def test_local_remotes_are_not_hosts(url: str) -> None:
    assert parse_remote(url) is None


def test_registry_follows_the_remote() -> None:
    assert registry_for(parse_remote("git@github.com:Acme/Web.git"), "web") == ("ghcr.io/acme/web", False)
    assert registry_for(parse_remote("git@gitlab.com:g/p.git"), "p") == ("registry.gitlab.com/g/p", False)
    assert registry_for(None, "web") == ("registry.example.com/web", True)


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("My_App", "my-app"),
        ("--x--y--", "x-y"),
        ("ÄÖÜ", "app"),
        ("a" * 40, "a" * 30),
        ("a" * 29 + "-b", "a" * 29),
    ],
)
def test_app_names_are_dns_labels(raw: str, name: str) -> None:
    assert app_name(raw) == name


def test_app_name_prefers_flag_then_remote_then_directory(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "Dir_Name", chart())
    remote = parse_remote("git@github.com:acme/from-remote.git")
    assert detect(repo).app == "dir-name"
    assert detect(repo, remote=remote).app == "from-remote"
    assert detect(repo, remote=remote, app="Flag").app == "flag"


RICH_REPO = {
    **chart("charts/web"),
    "deploy/values-common.yaml": "",
    "deploy/values-preview.yaml": "",
    "Dockerfile": "FROM x\n",
    "worker/Dockerfile": "FROM x\n",
    "alembic.ini": "",
    "requirements.txt": "PyMySQL\n",
    "Makefile": "test:\n\tpytest\n",
    "secrets.local.yaml": "staging/app: {KEY: v}\n",
}


@pytest.mark.parametrize("files", [chart(), RICH_REPO, {**chart(), "migrations/1.sql": ""}])
def test_the_rendered_config_loads_with_the_real_loader(tmp_path: Path, files: dict[str, str]) -> None:
    repo = make_repo(tmp_path, files)
    facts = detect(repo, remote=parse_remote("git@github.com:acme/web.git"))
    (repo / "deploytag.yaml").write_text(render_config(facts))
    config = load_config(repo=repo, environ={}).config
    assert config.app == "web"
    assert config.chart.path == facts.chart
    assert config.test.command == (list(facts.test.command) if facts.test else None)
    assert sorted(config.images) == sorted(i.name for i in facts.images)
    if files is RICH_REPO:
        assert config.database.engine == "mysql"
        assert config.database.migrate == ["alembic", "upgrade", "head"]
        assert config.images["app"].repository == "ghcr.io/acme/web"
        assert config.images["worker"].repository == "ghcr.io/acme/web/worker"
        assert config.secrets.ids == ["staging/app"]
        assert config.chart.environments == {"preview": [Path("deploy/values-preview.yaml")]}


def test_ci_choices_and_branch_filters() -> None:
    assert check_ci(None) is None
    assert check_ci("gitlab") == "gitlab"
    with pytest.raises(UsageError) as err:
        check_ci("jenkins")
    assert err.value.exit_status == ExitStatus.USAGE
    assert github_branch_filters(("feature/*", "main")) == ("feature/**", "main")
    assert github_branch_filters(("release-?",)) == ("**",)
    assert gitlab_branch_regex(("feature/*", "v1.x")) == r"/^(feature\/.*|v1\.x)$/"
