"""Torch-only generative and dynamics models shared by the agents (no gymnasium or SB3 imports)."""
