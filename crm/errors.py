"""The one shape of a broken business rule, raised by every service module."""


class RuleError(Exception):
    """A rule was broken. ``message`` is translatable and safe to show; ``field`` names the form field it
    belongs to (None: the form as a whole). Each module subclasses it (OrderError, CheckoutError, ...)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
