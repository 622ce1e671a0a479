"""rlgen: reinforcement learning with generative models (VIME, GAIL, World Models) on PyTorch and SB3.

Importing the package registers rlgen's environments with Gymnasium (``gymnasium.make("rlgen/...")``).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rlgen")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

from rlgen import envs as _envs  # noqa: E402,F401  (registers rlgen/... environment ids)
