"""The original import path, ``mooncake.core.simple_mooncake``; no logic lives here."""

from mooncake import SimpleMooncake

__all__ = ["SimpleMooncake"]
