"""Normalising flows for images: RealNVP (Dinh et al. 2017) and Glow (Kingma & Dhariwal 2018).

Every layer maps data towards the latent with ``forward(x) -> (y, log_det)`` and back with
``inverse(y) -> (x, log_det)`` (the log|det| of the inverse map, i.e. minus the forward one).
"""
