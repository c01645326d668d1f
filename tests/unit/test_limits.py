from plenary.live.limits import FailureLimiter, TokenBucket


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


def test_failure_limiter_blocks_after_limit_within_window():
    clock = Clock()
    limiter = FailureLimiter(3, 60, clock=clock)
    for _ in range(3):
        assert limiter.retry_after("a") == 0
        limiter.fail("a")
    assert 59 <= limiter.retry_after("a") <= 60
    assert limiter.retry_after("b") == 0  # other addresses unaffected
    clock.t += 61
    assert limiter.retry_after("a") == 0
