import asyncio
import threading

import pytest

from advanced_mlops.serving.batching import AdaptiveBatcher


def test_concurrent_requests_share_model_calls_and_get_their_own_results() -> None:
    calls: list[int] = []
    release = threading.Event()

    def score(records: list[dict]) -> list[dict]:
        calls.append(len(records))
        release.wait(1)  # the first call is slow: the others queue behind it meanwhile
        return [{"double": r["x"] * 2} for r in records]

    async def scenario() -> list[list[dict]]:
        batcher = AdaptiveBatcher(score, max_batch_size=50)
        first = asyncio.create_task(batcher([{"x": -1}]))
        await asyncio.sleep(0.05)
        rest = [asyncio.create_task(batcher([{"x": i}, {"x": i + 100}])) for i in range(30)]
        await asyncio.sleep(0.05)
        release.set()
        return [await first, *[await task for task in rest]]

    results = asyncio.run(scenario())
    assert results[0] == [{"double": -2}]
    assert results[1:] == [[{"double": 2 * i}, {"double": 2 * (i + 100)}] for i in range(30)]
    assert calls[0] == 1  # an idle service answers at once
    assert calls[1:] == [50, 10]  # then the queue, merged, up to max_batch_size records
    assert sum(calls) == 61


def test_a_failing_model_call_fails_each_of_its_callers_and_the_batcher_recovers() -> None:
    def score(records: list[dict]) -> list[dict]:
        if any(r.get("boom") for r in records):
            raise ValueError("model failed")
        return records

    async def scenario() -> list[dict]:
        batcher = AdaptiveBatcher(score)
        with pytest.raises(ValueError, match="model failed"):
            await batcher([{"boom": True}])
        return await batcher([{"ok": 1}])

    assert asyncio.run(scenario()) == [{"ok": 1}]
