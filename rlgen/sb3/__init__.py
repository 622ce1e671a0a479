"""Glue between rlgen and Stable-Baselines3: algorithms, safe loading, checkpoints, callbacks, logging."""
