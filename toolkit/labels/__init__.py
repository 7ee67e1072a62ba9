"""Stage 4, labels: a Label Studio export in, checked entity / stance / ner / quarantine tables out.

Span checks, gold and agreement, BIO tags, and the pull that releases them as the next version.
"""
