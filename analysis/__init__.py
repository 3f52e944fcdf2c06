"""Who gets the data: organisation resolution, recipient sectors and identifying flags.

Public API: :func:`classify_recipient` (sector, reason and confidence for one recipient
name), :func:`analysis.flags.assess_share` (flags with evidence for one share) and
:func:`analysis.pipeline.rebuild` (recompute everything in a database).
"""

from analysis.classify import Classification, classify_recipient

__all__ = ["Classification", "classify_recipient"]
