"""Latent-space tools behind the Explore page: seeded z, truncation, lerp/slerp, GANSpace directions, class blends."""
