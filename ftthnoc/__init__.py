"""ftthnoc: network operations for a town's fibre, BWA, telework VPN and school networks."""

__version__ = "0.1.0"
