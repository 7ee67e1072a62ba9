"""Near-duplicate articles (syndicated wire copy): flagged with a shared group id, never dropped.

Shingling is per *paragraph*, not per document. Syndication in Indonesian news is mostly
partial: a Tribun network page re-runs a block of wire paragraphs inside its own story
(both Tribun seeds carry the same four Wang Yi paragraphs in texts of ~30 paragraphs).
A whole-document MinHash sees a Jaccard of ~0.1 there and cannot tell that from chance,
while per-paragraph signatures match those paragraphs almost exactly. Two articles are
near-duplicates when they share at least `min_shared` near-identical paragraphs (or all
of a very short article's paragraphs); groups are the connected components.

Memory: the index keeps no text and no whole signatures, only the LSH band hashes of
each paragraph (BANDS x 12 bytes: an 8-byte hash and a 4-byte paragraph number). They
are buffered briefly, then appended to BUCKETS spool files by the top bits of the hash,
so `groups` sorts one bucket at a time: the memory held is bounded by the buffer and the
largest bucket, not by the corpus (100k articles of ~15 paragraphs spool ~200 MB to disk
and hold a few MB). The paragraph pairs found per bucket (16-byte records; chance matches
of a single paragraph make them grow faster than the corpus) are spooled the same way,
by article, and counted one file at a time. Small indexes never touch the disk.
A band hash carried by more than `max_fanout` articles is either boilerplate (a
disclaimer on every page of a site) or a story syndicated many times. All its pairs would
be quadratic (1000 copies: 500k pairs a band), so such a "wide" run links only each
carrier to the next one (a chain, linear); and because boilerplate is wide too, a pair
linked through wide runs needs more: its shared paragraphs must be at least 3/4 of the
smaller article's. Copies of one story share nearly all their paragraphs (a local intro
or footer aside); pages sharing a footer or disclaimer share a small part. (Until this
rule wide runs linked nothing: 30 copies of a story made one group, 60 made none.)

Signatures are computed for a whole article at once with numpy (a polynomial hash per
word, word 3-grams mixed into 64-bit keys and finalised to 32 bits, NUM_PERM 32-bit
multiply-add permutations, a min per paragraph), about ten times faster than one
datasketch MinHash object per paragraph. 32-bit permutations: numpy multiplies uint32
with SIMD and uint64 without (91 -> 20 us an article); on 8000 benchmark pages they find
the same 254 planted syndicated pairs as 64-bit ones, with fewer chance pairs.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from array import array
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np

NUM_PERM = 60
BANDS = 12  # 12 bands x 5 rows: P(match) is 0.99 at Jaccard 0.8, 0.62 at 0.6, 0.12 at 0.4
ROWS = NUM_PERM // BANDS
SHINGLE_WORDS = 3
MIN_PARAGRAPH_WORDS = 8  # shorter paragraphs (headings, one-liners) are too generic to count
BUCKETS = 64  # spool files, by the top 6 bits of the band hash
BUFFER_RECORDS = 1 << 18  # band records held before they go to the spool (3 MB; sorting a
# bigger buffer into buckets briefly took 4x its size, +50 MB at 1M records)
_WORD_BYTE = np.zeros(256, dtype=bool)  # see _words
_WORD_BYTE[
    [*b"0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", *range(128, 256)]
] = True
# UTF-8 punctuation outside ASCII, as (lead byte, second bytes, width): U+00A0-U+00BF
# (NBSP, guillemets, inverted marks...) and U+2000-U+206F (spaces, dashes, quotes, ellipsis)
_PUNCTUATION = (
    (0xC2, np.isin(np.arange(256), np.arange(0xA0, 0xC0)), 2),  # second bytes, as a table
    (0xE2, np.isin(np.arange(256), [0x80, 0x81]), 3),
)
_RECORD = np.dtype([("hash", "<u8"), ("paragraph", "<u4")])
PAIR_BUCKETS = 64  # spool files of pair records, by article
_PAIR = np.dtype([("a", "<u4"), ("b", "<u4"), ("pa", "<u4"), ("pb", "<u4")])
_WIDE = np.uint32(1 << 31)  # flag in `pb`: the pair record comes from a wide run
_M64 = 2**64
# Fixed odd multipliers (arithmetic wraps mod 2**64): word 3-gram mixing, the permutations
# and the mixing of a band's rows into one 64-bit hash.
_WORD_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9], np.uint64)
_rng = np.random.RandomState(1)
_PERM_A = _rng.randint(0, 2**32, NUM_PERM, dtype=np.uint64).astype(np.uint32) | np.uint32(1)
_PERM_B = _rng.randint(0, 2**32, NUM_PERM, dtype=np.uint64).astype(np.uint32)
_MIX = np.array([0x9E3779B97F4A7C15 * (2 * i + 1) % _M64 for i in range(ROWS)], dtype=np.uint64)
_BYTE_MIX = np.uint64(0x100000001B3)  # odd: invertible mod 2**64
_BYTE_MIX_INVERSE = np.uint64(pow(0x100000001B3, -1, _M64))
_POWERS = [np.empty(0, np.uint64), np.empty(0, np.uint64)]  # see _powers
_BAND_SALT = np.arange(1, BANDS + 1, dtype=np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)


def _append_partitioned(records: np.ndarray, keys: np.ndarray, parts: int, prefix: Path) -> None:
    """Append each record to the file `<prefix>-NNN.bin` of its key (0 <= key < parts),
    keeping the records' order within a part (`keys`: small unsigned integers, sorted by radix)."""
    # np.take: fancy indexing of structured records is ~8x slower than `take`
    records = np.take(records, np.argsort(keys, kind="stable"))
    edges = np.r_[0, np.cumsum(np.bincount(keys, minlength=parts))]
    for part in range(parts):
        if edges[part] < edges[part + 1]:
            with open(f"{prefix}-{part:03d}.bin", "ab") as fh:
                records[edges[part] : edges[part + 1]].tofile(fh)


class NearDuplicateIndex:
    """Add articles one by one (`add`), then ask for the groups (`groups`).

    `spool_dir` is where band hashes go once the buffer fills (created when needed and
    removed by `groups`); by default a temporary directory."""

    def __init__(
        self, *, min_shared: int = 2, max_fanout: int = 50, spool_dir: Path | None = None
    ) -> None:
        self.min_shared = min_shared
        self.max_fanout = max_fanout
        self._spool_dir = Path(spool_dir) if spool_dir is not None else None
        self._spooled = False
        self._ids: list[str] = []
        # article i owns paragraphs [f[i], f[i+1]); an int64 array: 8 bytes an article
        self._first_paragraph = array("q", [0])
        self._buffer: list[np.ndarray] = []
        self._buffered = 0

    def add(self, article_id: str, text: str) -> None:
        """Index one article's paragraphs (split on blank lines). The text is not kept."""
        self.add_bands(article_id, paragraph_bands(text))

    def add_bands(self, article_id: str, bands: np.ndarray) -> None:
        """Index one article from its `paragraph_bands` (computed elsewhere, e.g. in a
        worker process); the same as `add` on its text."""
        self._ids.append(article_id)
        first = self._first_paragraph[-1]
        self._first_paragraph.append(first + len(bands))
        if not len(bands):
            return
        records = np.empty(bands.size, dtype=_RECORD)
        records["hash"] = bands.reshape(-1)
        records["paragraph"] = np.repeat(np.arange(first, first + len(bands)), BANDS)
        self._buffer.append(records)
        self._buffered += len(records)
        if self._buffered >= BUFFER_RECORDS:
            self._spool()

    def add_many(self, article_ids: list[str], bands: list[np.ndarray]) -> None:
        """`add_bands` of several articles at once (a worker chunk's): the same records
        in the same order, made with one concatenation instead of one array an article."""
        if not article_ids:
            return
        counts = np.fromiter((len(b) for b in bands), np.int64, len(bands))
        first = self._first_paragraph[-1]
        self._ids.extend(article_ids)
        self._first_paragraph.extend((first + np.cumsum(counts)).tolist())
        total = int(counts.sum())
        if not total:
            return
        records = np.empty(total * BANDS, dtype=_RECORD)
        records["hash"] = np.concatenate([b.reshape(-1) for b in bands])
        records["paragraph"] = np.repeat(np.arange(first, first + total), BANDS)
        self._buffer.append(records)
        self._buffered += len(records)
        if self._buffered >= BUFFER_RECORDS:
            self._spool()

    def _spool(self) -> None:
        """Append the buffered records to their bucket files."""
        if not self._buffer:
            return
        records = np.concatenate(self._buffer)
        self._buffer, self._buffered = [], 0
        if self._spool_dir is None:
            self._spool_dir = Path(tempfile.mkdtemp(prefix="near-duplicates-"))
            weakref.finalize(self, shutil.rmtree, self._spool_dir, True)
        self._spool_dir.mkdir(parents=True, exist_ok=True)
        self._spooled = True
        # small unsigned keys: numpy's stable sort of 8/16-bit integers is a radix sort
        # (12x faster than sorting intp keys for 64 buckets)
        shift = np.uint64(64 - BUCKETS.bit_length() + 1)
        bucket = (records["hash"] >> shift).astype(np.min_scalar_type(BUCKETS - 1))
        _append_partitioned(records, bucket, BUCKETS, self._spool_dir / "bucket")

    def _buckets(self) -> Iterator[np.ndarray]:
        if not self._spooled:
            if self._buffer:
                yield np.concatenate(self._buffer)
            return
        self._spool()
        assert self._spool_dir is not None
        for path in sorted(self._spool_dir.glob("bucket-*.bin")):
            yield np.fromfile(path, dtype=_RECORD)

    def _pairs(
        self, records: np.ndarray, starts: np.ndarray, owner_of: np.ndarray | None = None
    ) -> np.ndarray:
        """Pair records (a, b, paragraph of a, paragraph of b) of one bucket's band hashes:
        one per two paragraphs of different articles a < b that share a band hash.
        `owner_of`: the article of each paragraph (`_owners(starts)`), if already made."""
        if not len(records):
            return np.empty(0, dtype=_PAIR)
        # lexsort of the two fields: 5x faster than sorting the structured records
        records = np.take(records, np.lexsort((records["paragraph"], records["hash"])))
        hashes = records["hash"]
        paragraphs = records["paragraph"].astype(np.int64)
        if owner_of is None:
            owner_of = _owners(starts)
        owners = owner_of[paragraphs]  # a lookup: searching `starts` per record cost ~2 s at 100k
        run_starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
        lengths = np.diff(np.r_[run_starts, len(hashes)])
        # owners ascend inside a run (paragraphs are numbered in article order), so the
        # distinct owners of a run are its first record plus each change of owner
        new_owner = np.r_[True, owners[1:] != owners[:-1]]
        new_owner[run_starts] = True
        distinct = np.add.reduceat(new_owner.astype(np.int64), run_starts)
        linking = (distinct >= 2) & (distinct <= self.max_fanout)
        parts = [self._chain_pairs(owners, paragraphs, starts, new_owner, run_starts, distinct)]
        for length in np.unique(lengths[linking]).tolist():
            members = run_starts[linking & (lengths == length)][:, None] + np.arange(length)
            i, j = np.triu_indices(length, 1)
            left, right = members[:, i].reshape(-1), members[:, j].reshape(-1)
            a, b = owners[left], owners[right]
            keep = a < b
            pairs = np.empty(int(keep.sum()), dtype=_PAIR)
            pairs["a"], pairs["b"] = a[keep], b[keep]
            pairs["pa"] = paragraphs[left[keep]] - starts[a[keep]]
            pairs["pb"] = paragraphs[right[keep]] - starts[b[keep]]
            parts.append(pairs)
        return np.concatenate(parts)

    def _chain_pairs(
        self,
        owners: np.ndarray,
        paragraphs: np.ndarray,
        starts: np.ndarray,
        new_owner: np.ndarray,
        run_starts: np.ndarray,
        distinct: np.ndarray,
    ) -> np.ndarray:
        """Pair records of the wide runs (more than max_fanout articles): each distinct
        carrier with the next one, flagged _WIDE."""
        run_of = np.repeat(np.arange(len(run_starts)), np.diff(np.r_[run_starts, len(owners)]))
        is_wide = (distinct > self.max_fanout)[run_of]
        first = np.flatnonzero(new_owner & is_wide)  # first record of each carrier
        if len(first) < 2:
            return np.empty(0, dtype=_PAIR)
        same_run = run_of[first[:-1]] == run_of[first[1:]]
        left, right = first[:-1][same_run], first[1:][same_run]
        pairs = np.empty(len(left), dtype=_PAIR)
        pairs["a"], pairs["b"] = owners[left], owners[right]
        pairs["pa"] = paragraphs[left] - starts[owners[left]]
        pairs["pb"] = (paragraphs[right] - starts[owners[right]]).astype(np.uint32) | _WIDE
        return pairs

    def _pair_batches(self) -> Iterator[np.ndarray]:
        """All pair records, in batches that each hold every record of their pairs.

        Chance matches of one paragraph make many pairs (about 11 per article on the
        benchmark corpus, growing with the corpus), so once the index is spooled the
        pair records are spooled too, by article a, and come back one file at a time."""
        starts = np.asarray(self._first_paragraph, dtype=np.int64)
        owner_of = _owners(starts)
        if not self._spooled:
            for records in self._buckets():
                yield self._pairs(records, starts, owner_of)
            return
        assert self._spool_dir is not None
        for records in self._buckets():
            pairs = self._pairs(records, starts, owner_of)
            part = (pairs["a"] % PAIR_BUCKETS).astype(np.min_scalar_type(PAIR_BUCKETS - 1))
            _append_partitioned(pairs, part, PAIR_BUCKETS, self._spool_dir / "pairs")
        for path in sorted(self._spool_dir.glob("pairs-*.bin")):
            yield np.fromfile(path, dtype=_PAIR)

    def _linked(self, counts: np.ndarray) -> Iterator[tuple[int, int]]:
        """Article pairs (a, b) sharing enough near-identical paragraphs to be grouped."""
        for pairs in self._pair_batches():
            if not len(pairs):
                continue
            wide = (pairs["pb"] & _WIDE) != 0
            pairs["pb"] &= ~_WIDE
            key = (pairs["a"].astype(np.int64) << 32) | pairs["b"].astype(np.int64)
            keys, shared = _shared_paragraphs(key, pairs)
            narrow_keys, narrow_shared = _shared_paragraphs(key[~wide], pairs[~wide])
            a, b = keys >> 32, keys & 0xFFFFFFFF
            smaller = np.minimum(counts[a], counts[b])
            needed = np.minimum(smaller, self.min_shared)
            # narrow runs alone suffice as before; wide ones need 3/4 of the smaller article
            at = np.searchsorted(narrow_keys, keys)
            found = at < len(narrow_keys)
            found[found] = narrow_keys[at[found]] == keys[found]
            narrow = np.zeros(len(keys), dtype=np.int64)
            narrow[found] = narrow_shared[at[found]]
            ok = (narrow >= needed) | ((shared >= needed) & (4 * shared >= 3 * smaller))
            yield from zip(a[ok].tolist(), b[ok].tolist(), strict=True)

    def groups(self) -> dict[str, str]:
        """article id -> group id (the smallest member id), for articles in a group only."""
        counts = np.diff(np.asarray(self._first_paragraph, dtype=np.int64))
        parent = list(range(len(self._ids)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        try:
            for a, b in self._linked(counts):
                parent[find(a)] = find(b)
        finally:
            if self._spool_dir is not None and self._spooled:
                shutil.rmtree(self._spool_dir, ignore_errors=True)
                self._spooled = False
        members_of: dict[int, list[int]] = defaultdict(list)
        for i in range(len(self._ids)):
            members_of[find(i)].append(i)
        result: dict[str, str] = {}
        for members in members_of.values():
            ids = {self._ids[i] for i in members}
            if len(ids) > 1:
                group = min(ids)
                result.update(dict.fromkeys(ids, group))
        return result


def _owners(starts: np.ndarray) -> np.ndarray:
    """The article of each paragraph: article i owns paragraphs [starts[i], starts[i+1])."""
    return np.repeat(np.arange(len(starts) - 1, dtype=np.intp), np.diff(starts))


def _shared_paragraphs(key: np.ndarray, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct pair keys and, per key, the number of paragraphs shared (the
    smaller of the distinct paragraphs on either side)."""
    if not len(key):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    shared = []
    for side in ("pa", "pb"):  # distinct paragraphs of each side, per pair
        order = np.lexsort((pairs[side], key))
        k, p = key[order], pairs[side][order]
        first = np.r_[True, (k[1:] != k[:-1]) | (p[1:] != p[:-1])]
        keys, n = np.unique(k[first], return_counts=True)
        shared.append(n)
    return keys, np.minimum(shared[0], shared[1])


def _words(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(hash, paragraph number) of each word of the casefolded text, in order.

    Words are runs of word bytes of the UTF-8 text: ASCII letters, digits and `_`, and
    every non-ASCII character except Latin-1 and general punctuation (NBSP, guillemets,
    curly quotes, dashes, ellipsis), which separate words like ASCII punctuation does:
    about \\w+, found with numpy instead of a regex (the regex and one hash call per word
    were most of the cost). A word's hash is sum(byte_i * P**i) mod 2**64 over its bytes."""
    data = np.frombuffer(text.casefold().encode("utf-8"), dtype=np.uint8)
    word = _WORD_BYTE[data]
    for lead, seconds, width in _PUNCTUATION:
        at = np.flatnonzero(data[: len(data) - width + 1] == lead)
        at = at[seconds[data[at + 1]]]
        for offset in range(width):
            word[at + offset] = False
    edges = np.diff(np.r_[np.int8(0), word.view(np.int8), np.int8(0)])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    powers, inverse = _powers(len(data))
    with np.errstate(over="ignore"):
        prefix = np.r_[np.uint64(0), np.cumsum(data * powers, dtype=np.uint64)]
        # a word's slice of the prefix sums is its hash times P**start: divide that out
        hashes = (prefix[ends] - prefix[starts]) * inverse[starts]
    breaks = np.flatnonzero((data[:-1] == 10) & (data[1:] == 10))  # blank lines: "\n\n"
    return hashes, np.searchsorted(breaks, starts)


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """P**k and P**-k mod 2**64 for k < n (P is odd, so it is invertible), cached."""
    if len(_POWERS[0]) < n:
        size = max(n, 2 * len(_POWERS[0]), 1024)
        with np.errstate(over="ignore"):
            _POWERS[:] = [
                np.cumprod(np.r_[np.uint64(1), np.full(size - 1, p, np.uint64)], dtype=np.uint64)
                for p in (_BYTE_MIX, _BYTE_MIX_INVERSE)
            ]
    return _POWERS[0][:n], _POWERS[1][:n]


def paragraph_bands(text: str) -> np.ndarray:
    """LSH band hashes of each indexed paragraph of `text`: shape (paragraphs, BANDS).

    Paragraphs are separated by blank lines; a paragraph's shingles are its word 3-grams
    (see `_words`); paragraphs of fewer than MIN_PARAGRAPH_WORDS words are skipped."""
    hashes, paragraph = _words(text)
    counts = np.bincount(paragraph) if len(paragraph) else np.zeros(0, np.int64)
    indexed = counts >= MIN_PARAGRAPH_WORDS
    if not indexed.any():
        return np.empty((0, BANDS), dtype=np.uint64)
    flat, owner = hashes[indexed[paragraph]], paragraph[indexed[paragraph]]
    shingles = counts[indexed] - (SHINGLE_WORDS - 1)
    with np.errstate(over="ignore"):
        keys = flat[:-2] * _WORD_MIX[0] + flat[1:-1] * _WORD_MIX[1] + flat[2:] * _WORD_MIX[2]
        keys = _fmix64(keys[owner[:-2] == owner[2:]])  # 3-grams inside one paragraph only
        keys = (keys >> np.uint64(32)).astype(np.uint32)
        permuted = keys[:, None] * _PERM_A + _PERM_B  # mod 2**32
        signatures = np.minimum.reduceat(permuted, np.r_[0, np.cumsum(shingles)[:-1]], axis=0)
        rows = signatures.astype(np.uint64).reshape(len(shingles), BANDS, ROWS)
        return (rows * _MIX).sum(axis=2, dtype=np.uint64) ^ _BAND_SALT


def _fmix64(x: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: spreads the linear 3-gram mix over all bits."""
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xFF51AFD7ED558CCD)
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xC4CEB9FE1A85EC53)
    return x ^ (x >> np.uint64(33))
