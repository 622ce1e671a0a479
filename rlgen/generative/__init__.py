"""Standalone training of the shared image models: kinds vae, flow and pixelcnn."""
