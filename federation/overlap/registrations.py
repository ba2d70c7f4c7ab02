"""What overlap adds to the registries below it, from ``FederationConfig.ready``: its part of
the agreement's terms document (``overlap.min_cell``)."""

from federation.agreements.terms import register_terms_section
from federation.overlap.terms import OVERLAP_INPUTS, clean_overlap_terms


def register() -> None:
    register_terms_section("overlap", clean_overlap_terms, inputs=OVERLAP_INPUTS)
