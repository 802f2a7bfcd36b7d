"""Errors a step raises on purpose, each with a message that says what to do."""


class InputDataError(ValueError):
    """Input files or tables are missing, empty, or lack columns, ids or labels."""


class PromotionRejected(RuntimeError):
    """The challenger misses an absolute threshold: the gate stops the job."""


class NoChampionError(RuntimeError):
    """There is no `champion` version to score with yet."""


class ChampionFeaturesError(RuntimeError):
    """The champion was trained on other feature columns than the code's (they changed)."""


class OutdatedTableError(RuntimeError):
    """A table was written by an older version of this project, without a column it needs."""


class MissingTableError(RuntimeError):
    """A step reads a table that no earlier step has written (local mode)."""


class WorkspaceOnly(SystemExit):
    """A step that needs a Databricks workspace was run locally (the local job runner skips it)."""


class LocalFolderInUseError(RuntimeError):
    """Another process is running locally in the same folder (local mode)."""
