"""The name plan: every name a branch's environment uses, derived once.

Rules (DESIGN.md "Plan before side effects"):

* Each name is valid for its system: RFC 1123 labels (63), Helm release names
  (53), PostgreSQL identifiers (63 bytes), image tags (128).
* Readable. GitLab's ``CI_COMMIT_REF_SLUG`` convention is what people already
  read: ASCII letters lowercased and ``/`` written as ``-``. A branch whose
  name becomes a clean label by those two changes alone is used that way, with
  no suffix: ``feature/login`` of app ``guestbook`` is namespace and release
  ``guestbook-feature-login``. Any other change (another character replaced,
  such as ``_``, ``.``, ``@`` or a non-ASCII letter; a run of ``-`` or ``/``
  collapsed; a ``-`` or ``/`` trimmed from an end) or a cut to fit a limit
  appends ``--`` and 8 hex characters of the SHA-256 of app and raw branch.
* Deterministic, and injective up to one explicit rule. Sanitising collapses
  runs of ``-``, so a name used without a suffix never contains ``--``; a
  hashed one always does, at its end. Two branches share a name only when both
  are unsuffixed and equal after lowercasing and ``/`` -> ``-``
  (``feature/login``, ``feature-login``, ``Feature/Login``); ``readable_key``
  is that form. Such a collision is refused before any side effect, never
  resolved by adopting the other branch's environment: the namespace records
  its raw branch (``deploytag.dev/branch``) and deploy and plan compare it
  (``capabilities/namespace.py`` ``check_ownership``, ``NameCollisionError``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence

import msgspec

from deploytag.core.errors import PlanError
from deploytag.core.templates import placeholders_in, render

DNS_LABEL_MAX = 63
DNS_NAME_MAX = 253
HELM_RELEASE_MAX = 53
POSTGRES_IDENT_MAX = 63
# MySQL allows 64, but a GRANT names the database with '_' escaped as '\_' and the server
# checks the escaped length: 32 keeps even an all-underscore name grantable.
MYSQL_DATABASE_MAX = 32
# MySQL 5.7+ allows 32 characters in a user name, MariaDB 80: 32 fits both.
MYSQL_USER_MAX = 32
IMAGE_TAG_MAX = 128
HASH_LEN = 8
_SEP = "--"

_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_IMAGE_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_LEN]


def is_dns_label(name: str, limit: int = DNS_LABEL_MAX) -> bool:
    return len(name) <= limit and bool(_LABEL_RE.match(name))


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def readable_key(branch: str) -> str:
    """The slug convention's changes alone: ASCII letters lowercased, ``/`` -> ``-``.

    A branch is named without a hash suffix exactly when this is already a clean
    label (and fits); two such branches with one key share their names.
    """
    return branch.translate(_ASCII_LOWER).replace("/", "-")


def _sanitize(text: str) -> str:
    # NFKD folds accents (é -> e) so names stay readable; everything else
    # outside [a-z0-9] becomes '-', runs collapse, ends are trimmed.
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    lowered = folded.lower()
    dashed = re.sub(r"[^a-z0-9]+", "-", lowered)
    return dashed.strip("-")


def _fit(base: str, *, changed: bool, limit: int, key: str) -> str:
    """``base`` as is when unchanged and short enough, else cut and hash-suffixed."""
    if not changed and base and len(base) <= limit and _SEP not in base:
        return base
    suffix = _SEP + short_hash(key)
    head = base[: limit - len(suffix)].rstrip("-")
    return (head or "x") + suffix


def label(raw: str, *, limit: int = DNS_LABEL_MAX, key: str | None = None) -> str:
    """A DNS label of at most ``limit`` characters naming ``raw`` (the module's rules).

    ``key`` is what the hash is taken of (default ``raw``).
    """
    clean = _sanitize(raw)
    changed = clean != readable_key(raw)
    return _fit(clean, changed=changed, limit=limit, key=key if key is not None else raw)


class ImageRef(msgspec.Struct, frozen=True):
    name: str  # key in deploytag.yaml images:
    repository: str
    tags: Sequence[str]

    @property
    def primary(self) -> str:
        return f"{self.repository}:{self.tags[0]}"


class DnsRecordPlan(msgspec.Struct, frozen=True):
    template: str
    label: str
    fqdn: str | None  # label + zone when a zone is configured


class NamePlan(msgspec.Struct, frozen=True):
    app: str
    branch: str
    commit: str
    kind: str  # "preview" or "permanent"
    environment: str  # "preview" for previews, else the permanent environment's name
    slug: str
    namespace: str
    release: str
    database: str
    database_role: str
    secret_name: str
    lease_name: str
    images: Sequence[ImageRef] = ()
    dns_records: Sequence[DnsRecordPlan] = ()
    template_values: Mapping[str, str] = msgspec.field(default_factory=dict)

    @property
    def short_commit(self) -> str:
        return self.commit[:8]


_BRANCH_SPECIFIC = ("Branch", "Slug", "Namespace")


def _record_label(template: str, values: Mapping[str, str], *, changed: bool, key: str, limit: int) -> str:
    """The template's label within ``limit``; a long branch is shortened, never the fixed text.

    Cutting the end (as for namespaces) would drop the template's own suffix
    (``-guest-server-frontend-aws``) and leave names nobody recognises.
    """
    rendered = render(template, values)
    clean = _sanitize(rendered)
    if not (changed or clean != rendered) and clean and len(clean) <= limit and _SEP not in clean:
        return clean
    suffix = _SEP + short_hash(key)
    used = [k for k in _BRANCH_SPECIFIC if k in placeholders_in(template)]
    fixed = _sanitize(render(template, {**values, **dict.fromkeys(used, "")}))
    if len(fixed) + len(suffix) + 1 > limit:
        raise PlanError(
            f"DNS template {template!r} cannot fit a {limit}-character label "
            f"(its fixed text alone is {len(fixed)} characters)",
            hint=f"shorten the template: at most {limit - len(suffix) - 1} characters besides the branch",
        )
    n = max(len(values[k]) for k in used)
    while True:
        shortened = {**values, **{k: values[k][:n].rstrip("-") for k in used}}
        candidate = _sanitize(render(template, shortened))
        if len(candidate) + len(suffix) <= limit:
            return candidate + suffix
        n -= 1


def _dns_records(
    templates: Sequence[str],
    *,
    values: Mapping[str, str],
    changed: bool,
    identity: str,
    zone: str | None,
    branch: str,
    owner_prefix: str = "",
) -> list[DnsRecordPlan]:
    """Record labels: ``{.Branch}`` is the sanitised branch here, hashed if that changed more than the slug rule.

    ``owner_prefix`` is put before the label of the ownership (TXT) record, so
    the label must leave room for it (item 6: checked here, not by the API).
    """
    records: list[DnsRecordPlan] = []
    seen: dict[str, str] = {}
    if zone is not None:
        zone_name = zone.rstrip(".")
        if not zone_name or not all(is_dns_label(part) for part in zone_name.split(".")):
            raise PlanError(
                f"DNS zone {zone!r} is not a valid domain name",
                hint="set dns.zone to e.g. example.com (lowercase labels of at most 63 characters)",
            )
    for template in templates:
        used = placeholders_in(template)
        if not any(name in used for name in _BRANCH_SPECIFIC):
            raise PlanError(
                f"DNS template {template!r} does not depend on the branch, so every branch "
                "would share one record",
                hint="include {.Branch} or {.Slug} in each dns.records template",
            )
        record_label = _record_label(
            template,
            values,
            changed=changed,
            key=f"{identity}\0{template}",
            limit=DNS_LABEL_MAX - len(owner_prefix),
        )
        if record_label in seen:
            raise PlanError(
                f"DNS templates {seen[record_label]!r} and {template!r} give the same record "
                f"{record_label!r} for branch {branch!r}",
                hint="make each dns.records template distinct",
            )
        seen[record_label] = template
        fqdn = f"{record_label}.{zone.rstrip('.')}" if zone else None
        if fqdn is not None and len(owner_prefix + fqdn) > DNS_NAME_MAX:
            raise PlanError(
                f"DNS name {owner_prefix + fqdn!r} is longer than {DNS_NAME_MAX} characters",
                hint="shorten the record template or the zone",
            )
        records.append(DnsRecordPlan(template=template, label=record_label, fqdn=fqdn))
    return records


def _image_tag(text: str) -> str:
    tag = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).lstrip(".-")[:IMAGE_TAG_MAX]
    return tag or "untagged"


def derive(
    *,
    app: str,
    branch: str,
    commit: str,
    kind: str,
    environment: str,
    fixed_namespace: str | None = None,
    images: Mapping[str, str] | None = None,
    dns_templates: Sequence[str] = (),
    dns_zone: str | None = None,
    dns_owner_prefix: str = "",
    database_engine: str | None = None,
) -> NamePlan:
    """Derive every name for one branch; raise PlanError when one cannot be valid."""
    if not branch:
        raise PlanError("the branch name is empty", hint="pass --branch or run inside a git checkout")
    if not is_dns_label(app, 30) or _SEP in app:
        raise PlanError(
            f"app name {app!r} is not a DNS label of at most 30 characters",
            hint="set app: in deploytag.yaml to e.g. 'guestbook'",
        )
    # The identity of an environment is app + raw branch; every derived name
    # hashes it, so names from different branches never meet.
    identity = f"{app}\0{branch}"
    clean = _sanitize(branch)
    # Lowercasing and '/' -> '-' keep a name readable and add no suffix (module docstring).
    changed = clean != readable_key(branch)

    def fit(prefix: str, limit: int) -> str:
        return _fit(f"{prefix}{clean}", changed=changed, limit=limit, key=identity)

    slug = fit("", DNS_LABEL_MAX - len(app) - 1)
    if fixed_namespace is not None:
        if not is_dns_label(fixed_namespace):
            raise PlanError(
                f"namespace {fixed_namespace!r} for branch {branch!r} is not a valid DNS label",
                hint="use lowercase letters, digits and '-', at most 63 characters",
            )
        namespace = fixed_namespace
    else:
        namespace = fit(f"{app}-", DNS_LABEL_MAX)
    release = fit(f"{app}-", HELM_RELEASE_MAX)
    # PostgreSQL folds unquoted identifiers to lower case; [a-z0-9_] needs no
    # quoting in psql, migrations or URLs. 3 bytes are kept for the role's "_rw".
    database_max = MYSQL_DATABASE_MAX if database_engine == "mysql" else POSTGRES_IDENT_MAX - 3
    database = fit(f"{app}-", database_max).replace("-", "_")
    role = database + "_rw"
    if database_engine == "mysql" and len(role) > MYSQL_USER_MAX:
        # '-' -> '_' is a bijection on sanitised names, so the hash rule keeps roles injective.
        role = (
            _fit(f"{app}-{clean}", changed=True, limit=MYSQL_USER_MAX - 3, key=identity).replace("-", "_")
            + "_rw"
        )
    short = commit[:8] if commit else "nocommit"
    values = {
        "Branch": branch,
        "App": app,
        "Slug": slug,
        "Commit": commit,
        "ShortCommit": short,
        "Namespace": namespace,
        "Environment": environment,
    }
    image_refs = [
        ImageRef(
            name=name,
            repository=repo,
            tags=[_image_tag(f"{slug}-{short}"), _image_tag(slug)],
        )
        for name, repo in sorted((images or {}).items())
    ]
    records = _dns_records(
        dns_templates,
        values={**values, "Branch": clean},
        changed=changed,
        identity=identity,
        zone=dns_zone,
        branch=branch,
        owner_prefix=dns_owner_prefix,
    )
    return NamePlan(
        app=app,
        branch=branch,
        commit=commit,
        kind=kind,
        environment=environment,
        slug=slug,
        namespace=namespace,
        release=release,
        database=database,
        database_role=role,
        secret_name=f"{app}-env",
        lease_name=f"deploytag-{namespace}",
        images=image_refs,
        dns_records=records,
        template_values=values,
    )
