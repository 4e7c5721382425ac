"""The one error a malformed query produces: what is wrong, where, and how to fix it."""

from __future__ import annotations


class SearchSyntaxError(ValueError):
    def __init__(self, message: str, text: str, position: int, hint: str | None = None) -> None:
        self.message = message
        self.text = text
        self.position = max(0, min(position, len(text)))
        """0-based character offset into `text`."""
        self.hint = hint
        super().__init__(str(self))

    @property
    def column(self) -> int:
        """1-based, as editors count."""
        return self.position + 1

    def __str__(self) -> str:
        line = f"{self.message} at column {self.column} of {_excerpt(self.text, self.position)!r}"
        return f"{line}: {self.hint}" if self.hint else line

    def caret(self) -> str:
        """The query with a `^` under the offending character, for terminals."""
        return f"{self.text}\n{' ' * self.position}^"


_EXCERPT_WIDTH = 60


def _excerpt(text: str, position: int) -> str:
    """The query, or the part of a long one around `position`, so the message stays on one line."""
    if len(text) <= _EXCERPT_WIDTH:
        return text
    start = max(0, min(position - _EXCERPT_WIDTH // 2, len(text) - _EXCERPT_WIDTH))
    end = start + _EXCERPT_WIDTH
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
