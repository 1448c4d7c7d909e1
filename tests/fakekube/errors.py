"""API errors, answered as ``kind: Status`` objects the way the API server words them."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body

    # -- constructors named after apimachinery's errors.New* ---------------------------------

    @staticmethod
    def _details(group: str, resource: str, name: str) -> dict[str, Any]:
        details: dict[str, Any] = {"name": name, "kind": resource}
        if group:
            details["group"] = group
        return details

    @classmethod
    def not_found(cls, group: str, resource: str, name: str) -> ApiError:
        qualified = f"{resource}.{group}" if group else resource
        return cls(404, "NotFound", f'{qualified} "{name}" not found', cls._details(group, resource, name))

    @classmethod
    def already_exists(cls, group: str, resource: str, name: str) -> ApiError:
        qualified = f"{resource}.{group}" if group else resource
        return cls(
            409, "AlreadyExists", f'{qualified} "{name}" already exists', cls._details(group, resource, name)
        )

    @classmethod
    def conflict(cls, group: str, resource: str, name: str, why: str | None = None) -> ApiError:
        qualified = f"{resource}.{group}" if group else resource
        why = (
            why
            or "the object has been modified; please apply your changes to the latest version and try again"
        )
        return cls(
            409,
            "Conflict",
            f'Operation cannot be fulfilled on {qualified} "{name}": {why}',
            cls._details(group, resource, name),
        )

    @classmethod
    def bad_request(cls, message: str) -> ApiError:
        return cls(400, "BadRequest", message)

    @classmethod
    def invalid(cls, group: str, resource_kind: str, name: str, causes: list[tuple[str, str]]) -> ApiError:
        """422; ``causes`` is a list of (field, message)."""
        text = "; ".join(f"{f}: {m}" for f, m in causes)
        details: dict[str, Any] = {
            "name": name,
            "kind": resource_kind,
            "causes": [{"reason": "FieldValueInvalid", "message": m, "field": f} for f, m in causes],
        }
        if group:
            details["group"] = group
        return cls(422, "Invalid", f'{resource_kind} "{name}" is invalid: {text}', details)

    @classmethod
    def method_not_allowed(cls, method: str) -> ApiError:
        return cls(
            405,
            "MethodNotAllowed",
            f"the server does not allow this method on the requested resource ({method})",
        )

    @classmethod
    def gone(cls, message: str) -> ApiError:
        return cls(410, "Expired", message)
