"""The name plan: valid for every system, deterministic, readable, and injective up to the one
explicit collision rule (property tests): names are shared only by branches equal after lowercasing
and '/' -> '-', and a deploy refuses the second of those (tests/capabilities/test_collisions.py)."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from deploytag.core.errors import PlanError
from deploytag.core.naming import (
    DNS_LABEL_MAX,
    HELM_RELEASE_MAX,
    MYSQL_DATABASE_MAX,
    MYSQL_USER_MAX,
    POSTGRES_IDENT_MAX,
    NamePlan,
    derive,
    is_dns_label,
    readable_key,
)

PG_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
TEMPLATES = ["{.Branch}-guest-server-frontend-aws", "{.Branch}-guest-server-server-aws", "api-{.Slug}"]

branches = st.text(min_size=1, max_size=200)
realistic = st.from_regex(r"(feature|bug|epic)/[A-Za-z0-9._/-]{1,80}", fullmatch=True)


def plan_for(branch: str, app: str = "guestbook") -> NamePlan:
    return derive(
        app=app,
        branch=branch,
        commit="0123456789abcdef",
        kind="preview",
        environment="preview",
        images={"app": "registry.example.com/guestbook"},
        dns_templates=TEMPLATES,
        dns_zone="example.com",
    )


def all_names(p: NamePlan) -> tuple[str, ...]:
    return (
        p.namespace,
        p.release,
        p.database,
        p.database_role,
        p.slug,
        *(r.label for r in p.dns_records),
        *(t for i in p.images for t in i.tags),
    )


@settings(max_examples=400)
@given(st.one_of(branches, realistic))
def test_every_name_is_valid_for_its_system(branch: str) -> None:
    p = plan_for(branch)
    assert is_dns_label(p.namespace, DNS_LABEL_MAX)
    assert is_dns_label(p.release, HELM_RELEASE_MAX)
    assert is_dns_label(p.slug, DNS_LABEL_MAX)
    for name in (p.database, p.database_role):
        assert PG_IDENT.match(name) and len(name.encode()) <= POSTGRES_IDENT_MAX
    for record in p.dns_records:
        assert is_dns_label(record.label)
        assert record.fqdn == f"{record.label}.example.com"
    for image in p.images:
        assert all(IMAGE_TAG.match(tag) for tag in image.tags)


@settings(max_examples=400)
@given(st.one_of(branches, realistic), st.one_of(branches, realistic))
def test_two_branches_share_names_only_under_the_slug_rule(a: str, b: str) -> None:
    assume(a != b)
    pa, pb = plan_for(a), plan_for(b)
    if readable_key(a) == readable_key(b) and "--" not in pa.namespace:
        # The one explicit collision: refused at deploy time, never adopted (test_collisions.py).
        assert pa.namespace == pb.namespace and all_names(pa)[:5] == all_names(pb)[:5]
        return
    for name_a, name_b in zip(all_names(pa), all_names(pb), strict=True):
        assert name_a != name_b


@settings(max_examples=300)
@given(st.one_of(branches, realistic), st.one_of(branches, realistic))
def test_shared_names_mean_the_same_readable_branch(a: str, b: str) -> None:
    """The converse: whenever two branches meet in any name, they are equal modulo case and '/'."""
    assume(a != b)
    if set(all_names(plan_for(a))) & set(all_names(plan_for(b))):
        assert readable_key(a) == readable_key(b)
        assert "--" not in plan_for(a).namespace


@pytest.mark.parametrize(
    ("a", "b"),
    [("feature/login", "feature-login"), ("Feature/Login", "feature/login"), ("BUG/X-1", "bug-x-1")],
)
def test_branches_equal_after_lowercasing_and_slashes_collide(a: str, b: str) -> None:
    assert plan_for(a).namespace == plan_for(b).namespace
    assert readable_key(a) == readable_key(b)


@given(st.one_of(branches, realistic))
def test_deterministic(branch: str) -> None:
    assert plan_for(branch) == plan_for(branch)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("feature/login", "feature/login/"),
        ("feature/login", "feature//login"),
        ("feature/login", "feature_login"),
        ("bug/a--b", "bug/a-b"),
        ("feature/" + "x" * 80, "feature/" + "x" * 81),
        ("feature/é", "feature/e"),
    ],
)
def test_near_collisions_are_told_apart(a: str, b: str) -> None:
    assert set(all_names(plan_for(a))).isdisjoint(all_names(plan_for(b)))


def test_clean_branch_is_used_as_is_and_readable() -> None:
    p = plan_for("hotfix-1")
    assert p.namespace == "guestbook-hotfix-1"
    assert p.release == "guestbook-hotfix-1"
    assert p.database == "guestbook_hotfix_1"
    assert p.dns_records[0].label == "hotfix-1-guest-server-frontend-aws"


def test_slash_and_uppercase_alone_add_no_hash() -> None:
    """GitLab's CI_COMMIT_REF_SLUG: lowercased, '/' -> '-'; the readable name people expect."""
    p = plan_for("feature/login")
    assert (p.namespace, p.release, p.slug) == (
        "guestbook-feature-login",
        "guestbook-feature-login",
        "feature-login",
    )
    assert (p.database, p.database_role) == ("guestbook_feature_login", "guestbook_feature_login_rw")
    assert p.dns_records[0].fqdn == "feature-login-guest-server-frontend-aws.example.com"
    assert p.images[0].tags == ["feature-login-01234567", "feature-login"]
    assert plan_for("Feature/Login-2").namespace == "guestbook-feature-login-2"


@pytest.mark.parametrize(
    "branch",
    [
        "feature/fix_2",
        "feature/a.b",
        "feature//login",
        "feature/login/",
        "/feature/x",
        "feature/é",
        "a--b",
        "x@y",
    ],
)
def test_other_changes_keep_the_hash_suffix(branch: str) -> None:
    p = plan_for(branch)
    assert re.fullmatch(r"guestbook-[a-z0-9-]+--[0-9a-f]{8}", p.namespace), p.namespace
    assert re.fullmatch(r"[a-z0-9-]+-guest-server-frontend-aws--[0-9a-f]{8}", p.dns_records[0].label)


def test_a_truncated_name_keeps_the_hash_suffix() -> None:
    p = plan_for("feature/" + "a" * 60)  # clean, but longer than the namespace's 63 characters
    assert re.fullmatch(r"guestbook-feature-a+--[0-9a-f]{8}", p.namespace)
    assert len(p.namespace) == DNS_LABEL_MAX


def test_long_branch_is_truncated_within_every_limit() -> None:
    p = plan_for("feature/" + "a" * 300)
    assert len(p.namespace) == DNS_LABEL_MAX
    assert len(p.release) == HELM_RELEASE_MAX


def staging(namespace: str) -> NamePlan:
    return derive(
        app="guestbook",
        branch="main",
        commit="",
        kind="permanent",
        environment="staging",
        fixed_namespace=namespace,
    )


def preview_with_dns(branch: str, *templates: str) -> NamePlan:
    return derive(
        app="guestbook",
        branch=branch,
        commit="",
        kind="preview",
        environment="preview",
        dns_templates=list(templates),
    )


def test_fixed_namespace_is_kept_and_validated() -> None:
    assert staging("guestbook-staging").namespace == "guestbook-staging"
    with pytest.raises(PlanError, match="not a valid DNS label"):
        staging("Guestbook_Staging")


def test_unknown_placeholder_is_an_error_naming_it() -> None:
    with pytest.raises(PlanError, match=r"unknown placeholder \{\.Brnch\}") as info:
        preview_with_dns("feature/x", "{.Brnch}-web")
    assert "{.Branch}" in str(info.value)


def test_template_without_branch_would_collide_and_is_refused() -> None:
    with pytest.raises(PlanError, match="does not depend on the branch"):
        preview_with_dns("feature/x", "{.App}-web")


def test_two_templates_giving_one_record_are_refused() -> None:
    with pytest.raises(PlanError, match="give the same record"):
        preview_with_dns("feature-x", "{.Branch}-web", "{.Branch}-web")


def test_empty_branch_is_refused() -> None:
    with pytest.raises(PlanError, match="empty"):
        plan_for("")


def dns_plan(branch: str, templates: list[str], zone: str = "example.com") -> NamePlan:
    return derive(
        app="guestbook",
        branch=branch,
        commit="0" * 40,
        kind="preview",
        environment="preview",
        dns_templates=templates,
        dns_zone=zone,
        dns_owner_prefix="dt-",
    )


@settings(max_examples=200)
@given(st.one_of(branches, realistic))
def test_dns_labels_leave_room_for_the_ownership_prefix_and_keep_the_template_text(branch: str) -> None:
    p = dns_plan(branch, TEMPLATES[:2])
    for record, suffix in zip(
        p.dns_records, ("-guest-server-frontend-aws", "-guest-server-server-aws"), strict=True
    ):
        assert is_dns_label("dt-" + record.label)
        # a long branch is shortened; the template's own text is kept
        assert suffix.lstrip("-") in record.label


def test_dns_template_whose_fixed_text_cannot_fit_is_a_plan_error() -> None:
    with pytest.raises(PlanError, match="cannot fit a 60-character label"):
        dns_plan("feature/x", ["{.Branch}-" + "x" * 55])


def test_dns_name_longer_than_253_with_the_prefix_is_a_plan_error() -> None:
    zone = ".".join(["z" * 60] * 3) + ".example.com"  # 195 characters
    with pytest.raises(PlanError, match="longer than 253 characters"):
        dns_plan("feature/" + "a" * 80, ["{.Branch}-web"], zone=zone)


def test_invalid_dns_zone_is_a_plan_error() -> None:
    with pytest.raises(PlanError, match="is not a valid domain name"):
        dns_plan("main", ["{.Branch}-web"], zone="Not A Zone")


def mysql_plan(branch: str) -> NamePlan:
    return derive(
        app="guestbook", branch=branch, commit="0123456789abcdef", kind="preview", environment="preview",
        database_engine="mysql",
    )  # fmt: skip


@settings(max_examples=300)
@given(st.one_of(branches, realistic))
def test_mysql_names_fit_mysql_and_mariadb(branch: str) -> None:
    p = mysql_plan(branch)
    assert PG_IDENT.match(p.database) and len(p.database) <= MYSQL_DATABASE_MAX
    assert PG_IDENT.match(p.database_role) and len(p.database_role) <= MYSQL_USER_MAX


@settings(max_examples=300)
@given(st.one_of(branches, realistic), st.one_of(branches, realistic))
def test_mysql_roles_never_shared(a: str, b: str) -> None:
    assume(a != b)
    pa, pb = mysql_plan(a), mysql_plan(b)
    assume(readable_key(a) != readable_key(b) or "__" in pa.database)  # else the refused collision
    assert pa.database != pb.database
    assert pa.database_role != pb.database_role


def test_mysql_role_of_a_short_branch_is_readable() -> None:
    short = mysql_plan("feature/x")
    assert short.database_role == short.database + "_rw"
    assert mysql_plan("main").database_role == "guestbook_main_rw"
    long = mysql_plan("feature/a-rather-long-branch-name")
    assert long.database == "guestbook_feature_a_ra__" + long.database[-8:]
    assert len(long.database) == MYSQL_DATABASE_MAX
    assert long.database_role.endswith("_rw") and len(long.database_role) == MYSQL_USER_MAX
