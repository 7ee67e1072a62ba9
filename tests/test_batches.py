from toolkit.batches import batched


def test_batched_splits_lists_and_generators_alike() -> None:
    assert list(batched([0, 1, 2, 3, 4, 5, 6], 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batched((i for i in range(4)), 2)) == [[0, 1], [2, 3]]
    assert list(batched([], 5)) == []
