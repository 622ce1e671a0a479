"""Errors that the CLI turns into one clear line and exit code 2 (no traceback)."""


class RlgenError(Exception):
    """A user-facing error: bad config, missing file, unknown env id, corrupt checkpoint...

    The message must say what is wrong and how to fix it, on one line.
    """

    exit_code = 2


class ConfigError(RlgenError):
    """A run config (YAML file or ``--set`` override) is invalid."""


class TrainingDiverged(RlgenError):
    """A loss, reward or parameter became NaN/inf; the last good checkpoint is kept."""


class TrainingInterrupted(RlgenError):
    """SIGINT/SIGTERM stopped training after a checkpoint was written; ``--resume`` continues."""

    exit_code = 130
