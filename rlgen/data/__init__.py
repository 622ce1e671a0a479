"""Datasets: transition pools, demonstrations, image sets and frame shards."""
