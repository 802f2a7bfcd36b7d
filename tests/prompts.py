"""What Copier's interactive prompt shows of a question, so tests can hold texts to it.

Copier (9.19) raises `ValueError("Validation error for question '<name>': <message>")` when a
validator prints something; questionary shows that text in prompt_toolkit's validation toolbar,
a one-row window: only the first line, cut at the terminal's width. A question's help is printed
line by line before the input, each line cut at the terminal's width, the first one behind the
question mark emoji (two columns) and a space.
"""

from __future__ import annotations

import unicodedata

TERMINAL_WIDTH = 80
HELP_INDENT = 3  # "🎤 " before the first line of the help


def prefix(question: str) -> str:
    return f"Validation error for question '{question}': "


def width(text: str) -> int:
    """Columns a terminal gives `text` (wide East Asian characters take two)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def message_problems(question: str, error: str) -> list[str]:
    """Why `error`, the text of Copier's ValueError, would not read well in the prompt."""
    problems = []
    if not error.startswith(prefix(question)):
        return [f"not Copier's validation error for {question}: {error!r}"]
    message = error[len(prefix(question)) :]
    if "\n" in error:
        problems.append("more than one line: the prompt shows only the first")
    if width(error.splitlines()[0]) > TERMINAL_WIDTH:
        problems.append(f"wider than {TERMINAL_WIDTH} columns with Copier's prefix: cut")
    if question in message:
        problems.append("repeats the question's name, which Copier already prints")
    if not message[:1].isupper():
        problems.append("does not start with the fix, capitalised")
    return problems
