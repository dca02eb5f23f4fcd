"""The embedded synthetic population and loaders for an analyst's own data."""

from ._io import DataFileError, fingerprint, read_families, write_families
from ._parameters import ItemParameters, SyntheticParameters, load_parameters
from ._synthetic import SyntheticPopulation, class_probabilities, make_synthetic_population

__all__ = [
    "DataFileError",
    "ItemParameters",
    "SyntheticParameters",
    "SyntheticPopulation",
    "class_probabilities",
    "fingerprint",
    "read_families",
    "write_families",
    "load_parameters",
    "make_synthetic_population",
]
