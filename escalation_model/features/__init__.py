"""From a family frame in roles to numeric features."""

from ._matrix import RolesEncoder, uses_roles

__all__ = ["RolesEncoder", "uses_roles"]
