"""Errors a step raises on purpose, each with a message that says what to do."""


class InputDataError(ValueError):
    """The training files are missing, empty, or lack columns or labels."""


class PromotionRejected(RuntimeError):
    """The challenger misses an absolute threshold: the gate stops the job."""


class NoChampionError(RuntimeError):
    """There is no `champion` version to score with yet."""


class MissingTableError(RuntimeError):
    """A step reads a table that no earlier step has written (local mode)."""


class LocalFolderInUseError(RuntimeError):
    """Another process is running locally in the same folder (local mode)."""
