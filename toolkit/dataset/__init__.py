"""Stage 2, dataset: articles (and label tables) in, an immutable, versioned HF release out.

Schema from `schemas/`, splits, near-duplicate groups, Parquet shards, card, git tag.
"""
