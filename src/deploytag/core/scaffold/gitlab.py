"""The GitLab CI configuration ``deploytag init --ci gitlab`` writes.

Review apps: a branch pipeline deploys to ``review/<branch>``, whose ``on_stop`` job destroys
it (run by GitLab when the branch is deleted or merged, after ``auto_stop_in``, or by hand).
A pipeline schedule runs ``deploytag gc``. Checked against the GitLab CI JSON schema in the
tests (tests/init/test_init_ci_templates.py).
"""

from __future__ import annotations

from deploytag.core.scaffold.ci import CiSettings, gitlab_branch_regex, gitlab_duration

CI_PATH = ".gitlab-ci.yml"


def render_gitlab(settings: CiSettings) -> str:
    previews = gitlab_branch_regex(settings.previews)
    parts = [_HEADER.format(admin=_ADMIN_LINE if settings.database else ""), _base(settings)]
    # Permanent branches are never review apps, whatever the preview patterns match (as in DeployTag).
    permanent = "".join(
        f'    - if: $CI_COMMIT_BRANCH == "{branch}"\n      when: never\n' for branch in settings.permanent
    )
    parts.append(
        _REVIEW.format(
            previews=previews, permanent=permanent, auto_stop_in=gitlab_duration(settings.ttl_hours)
        )
    )
    for branch, environment in settings.permanent.items():
        parts.append(_PERMANENT.format(branch=branch, environment=environment))
    parts.append(_STOP.format(previews=previews, permanent=permanent))
    parts.append(_GC)
    return "".join(parts)


_ADMIN_LINE = (
    "#   DEPLOYTAG_DATABASE_ADMIN_URL  (masked) admin URL of the database server for branch databases\n"
)

_HEADER = """\
# DeployTag: an environment per branch, written by `deploytag init --ci gitlab`.
# CI/CD variables it uses (Settings > CI/CD > Variables); docs/ci.md has the steps:
#   KUBECONFIG                    type File: a kubeconfig for the cluster (a ServiceAccount token)
#   DEPLOYTAG_GITLAB_TOKEN        (masked) project access token, scope api, role Developer: MR comment
{admin}#   DEPLOYTAG_REGISTRY_USERNAME/PASSWORD  registry credentials (GitLab's own registry: set below)
# and a pipeline schedule (Build > Pipeline schedules) for `deploytag gc`.
stages: [deploy, cleanup]
"""


def _base(settings: CiSettings) -> str:
    registry = ""
    if settings.registry_host == "registry.gitlab.com":
        registry = (
            "    DEPLOYTAG_REGISTRY_USERNAME: $CI_REGISTRY_USER  # GitLab's registry: the job's own token\n"
            "    DEPLOYTAG_REGISTRY_PASSWORD: $CI_REGISTRY_PASSWORD\n"
        )
    return f"""
.deploytag:
  image: python:3.12  # has git and curl
  variables:
    HELM_VERSION: v3.18.0
{registry}  before_script:
    - curl -fsSL "https://get.helm.sh/helm-$HELM_VERSION-linux-amd64.tar.gz" | tar -xz -C /usr/local/bin --strip-components=1 linux-amd64/helm
    - pip install --quiet '{settings.package}'
"""


_REVIEW = """
# One review app per matching branch. resource_group runs one job per branch at a time; DeployTag's
# own Lease serialises runs too, and the newest push wins (an older commit is skipped).
deploytag:review:
  extends: .deploytag
  stage: deploy
  variables:
    GIT_DEPTH: 0  # the history: an older commit never replaces a newer one
  script:
    # The report as JSON for the environment's URL; shown in the log too, on failure with its digest.
    - deploytag deploy --output json > deploytag-report.json || {{ status=$?; cat deploytag-report.json; exit $status; }}
    - cat deploytag-report.json
    - python -c 'import json,os; u=json.load(open("deploytag-report.json")).get("urls") or [os.environ["CI_PROJECT_URL"]]; print("DEPLOYTAG_URL=" + u[0])' > deploytag.env
  artifacts:
    paths: [deploytag.yaml]  # the stop job has no checkout (the branch may be gone)
    expire_in: 30 days
    reports:
      dotenv: deploytag.env
  environment:
    name: review/$CI_COMMIT_REF_SLUG
    url: $DEPLOYTAG_URL
    on_stop: deploytag:stop
    auto_stop_in: {auto_stop_in}
  resource_group: deploytag/$CI_COMMIT_REF_SLUG
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
      when: never
{permanent}    - if: $CI_COMMIT_BRANCH =~ {previews}
"""

_PERMANENT = """
deploytag:{environment}:
  extends: .deploytag
  stage: deploy
  variables:
    GIT_DEPTH: 0
  script:
    - deploytag deploy
  environment:
    name: {environment}
  resource_group: deploytag/{branch}
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
      when: never
    - if: $CI_COMMIT_BRANCH == "{branch}"
"""

_STOP = """
# Destroys the review app: GitLab runs it when the branch is deleted or merged, when
# auto_stop_in passes, or by hand (Operate > Environments > Stop).
deploytag:stop:
  extends: .deploytag
  stage: cleanup
  variables:
    GIT_STRATEGY: none  # the branch may be deleted: deploytag.yaml comes from the review job's artifacts
  needs:
    - job: deploytag:review
      artifacts: true
  script:
    - deploytag destroy --branch "$CI_COMMIT_REF_NAME" --commit "$CI_COMMIT_SHA"
  environment:
    name: review/$CI_COMMIT_REF_SLUG
    action: stop
  resource_group: deploytag/$CI_COMMIT_REF_SLUG
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
      when: never
{permanent}    - if: $CI_COMMIT_BRANCH =~ {previews}
      when: manual
  allow_failure: true  # a manual job does not hold the pipeline
"""

_GC = """
# Environments whose branch or merge request is gone, or whose TTL passed.
deploytag:gc:
  extends: .deploytag
  stage: cleanup
  script:
    - deploytag gc
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
"""
