"""Sampling & research campaigns: a partner's trial product offered to a consented segment of
the host's members, proposed by the partner, reviewed by the host, shipped to a random draw of
the segment, and answered in a survey that earns coins, of which the partner sees aggregates
only.

The disclosure rules (minimum cell, noise, question budget) are the overlap's
(``federation.overlap.services``), the consents and provision records the consent app's, and
the rewards the coin ledger's: this domain only applies them to a campaign.
"""
