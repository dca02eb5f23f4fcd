"""From a family frame in roles to numeric features."""

from ._matrix import FeatureSpec, feature_matrix, make_feature_spec, uses_roles

__all__ = ["FeatureSpec", "feature_matrix", "make_feature_spec", "uses_roles"]
