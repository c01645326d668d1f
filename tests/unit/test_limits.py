import pytest
from plenary.live.joins import JoinLimiter, TooManyAttempts
from plenary.live.limits import MemoryWindowStore, TokenBucket, retry_after


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_bucket_allows_burst_then_refills():
    clock = Clock()
    bucket = TokenBucket(3, 1.0, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.t += 1.0
    assert bucket.take() is True
    assert bucket.take() is False
    clock.t += 100
    assert sum(bucket.take() for _ in range(10)) == 3  # never more than capacity


async def test_window_store_counts_distinct_members_within_the_window():
    clock = Clock()
    store = MemoryWindowStore(clock=clock)
    await store.add("k", "a", 60)
    clock.t += 10
    await store.add("k", "b", 60)
    clock.t += 10
    await store.add("k", "a", 60)  # seen again: one member, now newest
    assert await store.ages("k", 60) == [10.0, 0.0]
    assert await store.ages("other", 60) == []
    clock.t += 55
    assert await store.ages("k", 60) == [55.0]


def test_retry_after_waits_for_the_entry_that_must_expire():
    assert retry_after([50.0, 30.0, 10.0], 4, 60) == 0
    assert retry_after([50.0, 30.0, 10.0], 3, 60) == 10.0  # the oldest leaves in 10 s
    assert retry_after([50.0, 30.0, 10.0], 2, 60) == 30.0


async def test_join_limiter_counts_distinct_wrong_codes_per_address():
    clock = Clock()
    limiter = JoinLimiter(MemoryWindowStore(clock=clock), wrong_codes=3, joins=100, window=60)
    for code in ("AAAAAAAA", "BBBBBBBB", "CCCCCCCC", "AAAAAAAA", "AAAAAAAA"):
        await limiter.wrong_code("1.2.3.4", code)  # repeats are not new guesses
    with pytest.raises(TooManyAttempts) as refused:
        await limiter.wrong_code("1.2.3.4", "DDDDDDDD")
    assert refused.value.code == "too_many_attempts" and 1 <= refused.value.retry_after <= 61
    await limiter.wrong_code("5.6.7.8", "DDDDDDDD")  # another address is unaffected
    await limiter.admit_participant("1.2.3.4")  # a right code still gets in
    clock.t += 61
    await limiter.wrong_code("1.2.3.4", "EEEEEEEE")


async def test_join_limiter_caps_new_participants_per_address():
    clock = Clock()
    limiter = JoinLimiter(MemoryWindowStore(clock=clock), joins=2, window=60)
    await limiter.admit_participant("a")
    clock.t += 30
    await limiter.admit_participant("a")
    with pytest.raises(TooManyAttempts) as refused:
        await limiter.admit_participant("a")
    assert refused.value.code == "too_many_joins" and refused.value.retry_after == 31
    await limiter.admit_participant("b")
    clock.t += 31
    await limiter.admit_participant("a")
