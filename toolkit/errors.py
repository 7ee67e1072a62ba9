"""The toolkit's one small exception family. The CLI turns these into `Error: ...`."""


class ToolkitError(Exception):
    """Base class: every error the library raises on purpose."""


class RejectedInput(ToolkitError):
    """An input page that cannot become an article; `reason` is a short machine tag."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


class SchemaError(ToolkitError):
    """The data contract in schemas/ is malformed or a record does not fit it."""


class ReleaseError(ToolkitError):
    """A release cannot be made or read (bad version, broken repository...)."""


class ValidationFailed(ToolkitError):
    """`validate` found problems; `report` holds them as data."""

    def __init__(self, report: list[dict]) -> None:
        self.report = report
        super().__init__(f"{len(report)} problem(s) found")


class StudioError(ToolkitError):
    """Label Studio is unreachable, refuses a request, or is misconfigured."""


class ProjectError(ToolkitError):
    """A dataset project file (dataset.yaml) is missing, unreadable or malformed."""
