"""One error family for the whole project; the API handler and the CLI wrapper turn it into responses."""


class HaetaeError(Exception):
    """An error with a message a person can act on: what was wrong and what to do."""

    exit_code = 1
    http_status = 400

    def __init__(self, message: str, *, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class IntegrityFailure(HaetaeError):
    """Stored evidence or the ledger does not match what was recorded."""

    http_status = 409


class RejectedInput(HaetaeError):
    """Input that cannot be accepted as given."""

    http_status = 400

    @classmethod
    def for_field(cls, field: str, message: str) -> "RejectedInput":
        """Refused for one field: the message names it, and the API puts it in the 400 body's details."""
        return cls(f"{field}: {message}", details={field: [message]})


class AccessDenied(HaetaeError):
    """The caller may not do or see this."""

    http_status = 403


class NotFound(HaetaeError):
    """The named object does not exist (or is not visible to the caller)."""

    http_status = 404


class UsageError(HaetaeError):
    """A command was called with wrong arguments."""

    exit_code = 2
