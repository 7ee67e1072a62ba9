"""Do datatrove's MinHash stages find the toolkit's near-duplicate groups?

    python -m benchmarks.minhash_compare --n 2000

Builds N synthetic pages natively (3% of them re-run 3-5 paragraphs of an earlier page
inside their own text: partial syndication), then runs datatrove's MinhashDedupSignature
/ Buckets / Cluster (default config: 5-grams, 14 buckets x 8 hashes, sha1; a whitespace word
tokenizer, so nothing is downloaded) on the same article texts, and compares the
article pairs each puts in one group.
"""

from __future__ import annotations

import argparse
import itertools
import struct
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.dedup.minhash import (
    MinhashConfig,
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupSignature,
)
from datatrove.utils.hashing import HashConfig
from datatrove.utils.word_tokenizers import WordTokenizer

from benchmarks.corpus import write_corpus
from toolkit.dataset.release import build, read_articles, wait_for_build


class Whitespace(WordTokenizer):
    def word_tokenize(self, text: str) -> list[str]:
        return text.split()

    def sent_tokenize(self, text: str) -> list[str]:
        return text.split("\n\n")

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        raise NotImplementedError


def pairs(groups: dict[str, str]) -> set[tuple[str, str]]:
    members: dict[str, list[str]] = defaultdict(list)
    for article, group in groups.items():
        members[group].append(article)
    return {p for ids in members.values() for p in itertools.combinations(sorted(ids), 2)}


def datatrove_groups(articles: list[dict], work: Path) -> dict[str, str]:
    # sha1: the xxhash binding installed here takes bytes, datatrove passes str
    config = MinhashConfig(hash_config=HashConfig(hash_fc="sha1"))
    signature = MinhashDedupSignature(str(work / "sigs"), config=config, language=Whitespace())
    docs = (Document(a["text"], a["id"]) for a in articles)
    for _ in signature.run(docs, rank=0, world_size=1) or ():
        pass
    buckets = MinhashDedupBuckets(str(work / "sigs"), str(work / "buckets"), config=config)
    for bucket in range(config.num_buckets):
        for _ in buckets.run(None, rank=bucket, world_size=config.num_buckets) or ():
            pass
    cluster = MinhashDedupCluster(
        str(work / "buckets"), str(work / "clusters"), config=config, save_cluster_id=True
    )
    for _ in cluster.run(None, 0, 1) or ():
        pass
    found: dict[str, str] = {}
    path = work / "clusters" / "000000.clusters"
    data = path.read_bytes() if path.exists() else b""
    for doc, group in struct.iter_unpack("<II", data):
        found[articles[doc]["id"]] = str(group)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.minhash_compare")
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="minhash-compare-"))
    write_corpus(work / "corpus", args.n)
    wait_for_build(build([work / "corpus"], work / "release", name="c", workers=2))
    articles = list(read_articles(work / "release"))
    ours = {a["id"]: a["near_duplicate_group"] for a in articles if a["near_duplicate_group"]}
    # control: 5 whole copies under new ids, which a document MinHash must find
    copies = [{"id": f"copy-{a['id']}", "text": a["text"]} for a in articles[:5]]
    theirs = datatrove_groups(articles + copies, work / "datatrove")
    found = sum(theirs.get(c["id"]) is not None for c in copies)
    theirs = {k: v for k, v in theirs.items() if not k.startswith("copy-")}
    sizes = defaultdict(int)
    for group in theirs.values():
        sizes[group] += 1
    theirs = {k: v for k, v in theirs.items() if sizes[v] > 1}  # groups among the articles
    mine, other = pairs(ours), pairs(theirs)
    print(f"control: datatrove found {found} of {len(copies)} whole copies")
    print(f"articles: {len(articles)}")
    print(f"toolkit (paragraph LSH): {len(set(ours.values()))} groups, {len(mine)} pairs")
    print(f"datatrove MinHash (document): {len(set(theirs.values()))} groups, {len(other)} pairs")
    print(f"pairs in both: {len(mine & other)}")
    print(f"toolkit pairs datatrove misses: {len(mine - other)}")
    print(f"datatrove pairs the toolkit does not make: {len(other - mine)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
