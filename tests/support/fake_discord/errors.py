"""Discord's JSON errors as the fake raises them (rendered by the server)."""

from __future__ import annotations

from .common import JSON


class ApiError(Exception):
    """Raised by REST handlers; rendered as a Discord JSON error."""

    def __init__(self, status: int, code: int, message: str, errors: JSON | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> JSON:
        out: JSON = {"code": self.code, "message": self.message}
        if self.errors is not None:
            out["errors"] = self.errors
        return out


def unknown(kind: str, code: int) -> ApiError:
    return ApiError(404, code, f"Unknown {kind}")


def invalid_form(field_name: str, message: str, code: str = "BASE_TYPE_INVALID") -> ApiError:
    return ApiError(
        400,
        50035,
        "Invalid Form Body",
        {field_name: {"_errors": [{"code": code, "message": message}]}},
    )


def missing_access() -> ApiError:
    """The bot cannot see the channel (Discord answers this before any other permission)."""
    return ApiError(403, 50001, "Missing Access")


def missing_permissions() -> ApiError:
    return ApiError(403, 50013, "Missing Permissions")
