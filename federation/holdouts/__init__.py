"""Holdout groups: the random share of a programme's members that is never contacted and gets
no bonus, so the programme's effect can be measured against them (``federation.metrics``).

A programme (a campaign, a company's reactivation bonus, an action-earning rule, a referral
reward) is named by a key; its holdout records the seed and the share once, when the programme
first asks. A member is held out when a hash of the seed and the member's id falls below the
share: the assignment is stable, reproducible from the recorded seed, and the same in Python
(``is_held_out``, which features ask before contacting or rewarding anyone) and in SQL
(``bucket_sql``, which the draws and the metrics use over whole populations).

It stands on agreements and the kernel only, below every domain that contacts members."""
