"""Copy channels for an index that grows: documents sharing a bucket (an LSH band key, or an exact-content
fingerprint) are paired as each one arrives, against the earlier members of its buckets.

A new document is paired with every earlier member of a bucket while the bucket holds fewer than `limit`
earlier documents, and with the bucket's first member only once it holds more (a star, as
`retold.sketch.lsh.bucket_pairs` does for large buckets): output stays linear in the bucket size, and the
result depends only on the arrival order, never on how the documents were split into batches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["match_buckets"]


def match_buckets(
    keys: Sequence[Sequence[int]],
    seqs: Sequence[int],
    earlier: Mapping[int, Sequence[int]],
    limit: int,
) -> list[tuple[int, int]]:
    """Pairs of new documents with the earlier members of their buckets, and with each other.

    Args:
        keys: Per new document (arrival order), its bucket keys; empty for a document that belongs in none.
        seqs: Their sequence numbers (increasing, above every earlier document).
        earlier: For each key, the first ``limit`` earlier members in arrival order (fewer if the bucket is
            smaller); missing keys have none.
        limit: Bucket size from which a newcomer is paired with the first member only (>= 1).

    Returns:
        Unique ``(earlier seq, new seq)`` pairs, sorted.

    Example:
        >>> match_buckets([[7], [7, 9], [9]], [10, 11, 12], {7: [3]}, limit=2)
        [(3, 10), (3, 11), (11, 12)]
    """
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    if len(keys) != len(seqs):
        raise ValueError(f"{len(keys)} key lists but {len(seqs)} sequence numbers")
    # Only keys with an earlier member, or held by two new documents, can pair (most keys are neither).
    seen: set[int] = set()
    shared: set[int] = set(earlier)
    for ks in keys:
        own = set(ks)
        shared |= seen & own
        seen |= own
    batch: dict[int, list[int]] = {}
    out: set[tuple[int, int]] = set()
    for ks, seq in zip(keys, seqs, strict=True):
        for k in dict.fromkeys(k for k in ks if k in shared):  # a key twice in one document counts once
            old = earlier.get(k, ())
            mine = batch.setdefault(k, [])
            held = len(old) + len(mine)
            if 0 < held < limit:
                out.update((x, seq) for x in old)
                out.update((x, seq) for x in mine)
            elif held >= limit:
                out.add((old[0] if old else mine[0], seq))
            mine.append(seq)
    return sorted(out)
