"""Cross-referrals: a company recommends another's product to its members and customers, and
earns the fee their agreement's referral terms set for each lead or sale it brings.

``models`` holds offers, links (each with an opaque token and a typable code), clicks,
conversions and fees; ``services`` writes them (the click, the conversion with its attribution
and fraud rules, the review, the fee's life from pending to locked to settled); ``selectors``
reads the funnel and the locked fees settlement takes (``locked_fees_between``). Only members
who consented to referral tracking with both companies are tracked.
"""
