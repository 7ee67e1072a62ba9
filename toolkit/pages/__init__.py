"""Stage 1, pages: one raw page (.txt, .html, .jsonl line) in, an `Article` or a `Rejection` out.

Decoding, encoding repair, line roles, bylines and dates; nothing here knows about releases.
"""
