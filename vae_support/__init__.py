"""vae_support: the companion package of the course on the ELBO, VAEs and the geometry of KL.

One concept per module (see DESIGN.md): ``kl``, ``bounds``, ``toy`` and the modules that build on
them. Everything is per data point, in nats, with shapes (samples, batch, event).
"""
from .seeding import set_seed

__version__ = "0.1.0"
__all__ = ["set_seed", "__version__"]
