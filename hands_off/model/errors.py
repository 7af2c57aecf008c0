"""The error type of the model, a user configuration mistake, and its fleet-file form."""

from __future__ import annotations

from typing import Any

__all__ = ["ConfigError", "FleetFileError"]


class ConfigError(ValueError):
    """A user configuration mistake, reported as one line naming the field and the fix.

    ``str(err)`` is ``f"{field}: {message}"``, where ``message`` says what is wrong and how to
    fix it. The CLI prints it without a traceback. An error raised by a practice rule also
    carries the rule's stable ``code`` (e.g. ``"HO-P8-WAVES-SHRINK"``), so callers and tests can
    match the code rather than the prose.

    Example::

        >>> str(ConfigError("Target.region", "'us-est-1' is not a known AWS region"))
        "Target.region: 'us-est-1' is not a known AWS region"
        >>> ConfigError("waves[2].targets", "fewer than ...", code="HO-P8-WAVES-SHRINK").code
        'HO-P8-WAVES-SHRINK'

    Attributes:
        field: the dotted path or ``Class.attribute`` of the wrong value.
        message: what is wrong and how to fix it.
        code: the code of the practice rule that raised it (see
            ``hands_off.model.practices.catalog()``). Default: ``None`` (not a practice rule).
    """

    field: str
    message: str
    code: str | None

    def __init__(self, field: str, message: str, *, code: str | None = None) -> None:
        """Create the error for ``field`` (a dotted path or ``Class.attribute``)."""
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.code = code

    def __reduce__(self) -> tuple[type[ConfigError], tuple[str, str], dict[str, str | None]]:
        """Pickle by the constructor arguments (``ValueError`` would pass only ``str(self)``);
        the keyword-only ``code`` travels as state."""
        return (type(self), (self.field, self.message), {"code": self.code})


class FleetFileError(ConfigError):
    """A ``ConfigError`` in a fleet file, naming the file: ``str(err)`` is
    ``f"{path}: {field}: {message}"``, e.g.
    ``"fleet.toml: stages.alpha: is empty; list at least one region"``.

    ``field`` is the dotted path of the key in the file, as in every ``ConfigError``; a syntax
    error has the file itself as its field (and is shown once: ``"fleet.toml: is not valid TOML
    ..."``).

    Attributes:
        path: the file, as it was given to ``load_environments`` / ``load_plan``.
    """

    path: str

    def __init__(self, field: str, message: str, *, path: str) -> None:
        """Create the error for ``field`` of the file at ``path``."""
        super().__init__(field, message)
        self.path = path
        self.args = (str(self),)

    def __str__(self) -> str:
        """``path: field: message`` (``path: message`` when the field is the file itself)."""
        where = self.path if self.field == self.path else f"{self.path}: {self.field}"
        return f"{where}: {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by the constructor arguments, keeping the path."""
        return (_fleet_file_error, (self.field, self.message, self.path))


def _fleet_file_error(field: str, message: str, path: str) -> FleetFileError:
    return FleetFileError(field, message, path=path)
