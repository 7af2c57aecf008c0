"""The one error type of the model: a user configuration mistake."""

from __future__ import annotations

__all__ = ["ConfigError"]


class ConfigError(ValueError):
    """A user configuration mistake, reported as one line naming the field and the fix.

    ``str(err)`` is ``f"{field}: {message}"``, where ``message`` says what is wrong and how to
    fix it. The CLI prints it without a traceback.

    Example::

        >>> str(ConfigError("Target.region", "'us-est-1' is not a known AWS region"))
        "Target.region: 'us-est-1' is not a known AWS region"
    """

    field: str
    message: str

    def __init__(self, field: str, message: str) -> None:
        """Create the error for ``field`` (a dotted path or ``Class.attribute``)."""
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def __reduce__(self) -> tuple[type[ConfigError], tuple[str, str]]:
        """Pickle by the constructor arguments (``ValueError`` would pass only ``str(self)``)."""
        return (type(self), (self.field, self.message))
