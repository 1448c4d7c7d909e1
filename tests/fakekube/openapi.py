"""Just enough OpenAPI v3 for client-go.

kubectl and helm ask ``/openapi/v3`` (then ``/openapi/v3/apis/<group>/<version>``)
whether the PATCH endpoint of a kind takes the ``fieldValidation`` query
parameter; when it does, they leave schema validation to the server and skip
the client-side validation that would need the full schemas. So each document
lists, per resource, its PATCH operation with its parameters and the
``x-kubernetes-group-version-kind`` extension, and an empty schema per kind.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .resources import GROUP_VERSIONS, RESOURCES

_PARAMS = [
    {"name": name, "in": "query", "schema": {"type": "string"}, "uniqueItems": True}
    for name in ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")
]


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def group_version_doc(group: str, version: str, kube_version: str) -> dict[str, Any] | None:
    types = [r for r in RESOURCES if r.group == group and r.version == version]
    if not types:
        return None
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    prefix = "/" + _gv_path(group, version)
    for rtype in types:
        gvk = {"group": group, "version": version, "kind": rtype.kind}
        if rtype.namespaced:
            item = f"{prefix}/namespaces/{{namespace}}/{rtype.resource}/{{name}}"
        else:
            item = f"{prefix}/{rtype.resource}/{{name}}"
        schema_name = f"io.fakekube.{group or 'core'}.{version}.{rtype.kind}"
        ref = {"$ref": f"#/components/schemas/{schema_name}"}
        paths[item] = {
            "get": {
                "operationId": f"read{rtype.kind}",
                "x-kubernetes-action": "get",
                "x-kubernetes-group-version-kind": gvk,
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}},
            },
            "patch": {
                "operationId": f"patch{rtype.kind}",
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": gvk,
                "parameters": _PARAMS,
                "requestBody": {
                    "content": {
                        media: {"schema": {"type": "object"}}
                        for media in (
                            "application/apply-patch+yaml",
                            "application/json-patch+json",
                            "application/merge-patch+json",
                            "application/strategic-merge-patch+json",
                        )
                    },
                    "required": True,
                },
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}},
            },
        }
        # no x-kubernetes-group-version-kind here: kubectl would then look fields up in this
        # (empty) schema and warn; without it, it falls back to its compiled-in types
        schemas[schema_name] = {
            "type": "object",
            "description": f"{rtype.kind} (fakekube serves no field schemas)",
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": kube_version},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def root_doc(kube_version: str) -> dict[str, Any]:
    paths = {}
    for group, versions in GROUP_VERSIONS.items():
        for version in versions:
            doc = group_version_doc(group, version, kube_version)
            digest = hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32].upper()
            paths[_gv_path(group, version)] = {
                "serverRelativeURL": f"/openapi/v3/{_gv_path(group, version)}?hash={digest}"
            }
    return {"paths": paths}
