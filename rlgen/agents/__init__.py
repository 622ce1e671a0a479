"""Agents composed from ``rlgen.models``, ``rlgen.envs``, ``rlgen.data`` and SB3; one module per kind."""
