"""Environments (sparse tasks), wrappers and env construction from the ``env`` config section.

Importing this package registers the ``rlgen/...`` ids with Gymnasium.
"""

from rlgen.envs.registration import register_builtin_envs, register_env

register_builtin_envs()

__all__ = ["register_env"]
