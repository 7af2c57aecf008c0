"""The one error type of the model: a user configuration mistake."""

from __future__ import annotations

__all__ = ["ConfigError"]


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
