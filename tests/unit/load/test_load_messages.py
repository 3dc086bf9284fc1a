"""Message envelope, class mix, sizes, latency histogram and retry classification."""

from __future__ import annotations

import json
import random

import oci
import pytest

from load.messages import Envelope, EnvelopeError, padded
from load.retry import Backoff, Failure, classify
from load.stats import LatencyHistogram
from load.traffic import Mix, SizeDistribution


def test_envelope_wire_format_and_round_trip() -> None:
    envelope = Envelope(seq=7, sent_at=1700000000.25, cls="heavy", pad="xx")
    assert json.loads(envelope.encode()) == {"seq": 7, "sentAt": 1700000000.25, "class": "heavy", "pad": "xx"}
    assert Envelope.decode(envelope.encode()) == envelope
    assert Envelope.decode(envelope.encode().encode()) == envelope


def test_decode_names_every_problem() -> None:
    with pytest.raises(EnvelopeError, match="not JSON"):
        Envelope.decode("hello")
    with pytest.raises(EnvelopeError) as info:
        Envelope.decode('{"seq": -1, "sentAt": "x"}')
    assert "seq must be" in str(info.value)
    assert "sentAt must be a number" in str(info.value)
    assert "class must be" in str(info.value)


@pytest.mark.parametrize("size", [1, 90, 256, 4096])
def test_padded_envelopes_have_the_requested_size(size: int) -> None:
    envelope = padded(seq=123456, sent_at=1700000000.123456, cls="light", size=size)
    bare = len(Envelope(seq=123456, sent_at=1700000000.123456, cls="light").encode())
    assert len(envelope.encode().encode()) == max(size, bare)


def test_mix_spreads_heavy_messages_evenly_and_exactly() -> None:
    mix = Mix(heavy_fraction=0.25)
    classes = [mix.class_of(seq) for seq in range(100)]
    assert classes.count("heavy") == 25
    assert all(classes[i : i + 4].count("heavy") == 1 for i in range(0, 100, 4))
    assert mix.channel_of("heavy") == "heavy"
    assert mix.key_of(9, "light") == b"light-1"
    assert Mix(keys_per_class=1).key_of(9, "heavy") == b"heavy"
    assert Mix(heavy_fraction=0).class_of(5) == "light"
    with pytest.raises(ValueError, match="heavy_fraction must be between 0 and 1"):
        Mix(heavy_fraction=1.5)


def test_sizes_are_fixed_or_deterministic_lognormal_within_bounds() -> None:
    assert {SizeDistribution(median=300).size_of(seq) for seq in range(50)} == {300}
    spread = SizeDistribution(median=1000, sigma=1.0, maximum=5000, seed=3)
    sizes = [spread.size_of(seq) for seq in range(2000)]
    assert sizes == [spread.size_of(seq) for seq in range(2000)]
    assert max(sizes) <= 5000
    assert min(sizes) >= 1
    assert 800 < sorted(sizes)[1000] < 1250  # the median
    with pytest.raises(ValueError, match="maximum"):
        SizeDistribution(median=10, maximum=5)


def test_histogram_percentiles_round_up_within_one_percent() -> None:
    values = [i / 1000 for i in range(1, 1001)]  # 1 ms .. 1 s
    histogram = LatencyHistogram(values)
    for q in (0.5, 0.95, 0.99):
        exact = values[int(q * len(values)) - 1]
        assert exact <= histogram.percentile(q) <= exact * 1.0101
    assert histogram.percentile(1.0) == 1.0
    assert histogram.count == 1000
    other = LatencyHistogram([5.0])
    histogram.merge(other)
    assert histogram.maximum == 5.0
    assert LatencyHistogram().percentile(0.99) == 0.0


def test_backoff_grows_and_is_capped() -> None:
    backoff = Backoff(base=0.1, cap=1.0)
    rng = random.Random(1)
    assert all(0 <= backoff.delay(0, rng) <= 0.1 for _ in range(100))
    assert all(0 <= backoff.delay(20, rng) <= 1.0 for _ in range(100))


def _service_error(status: int) -> oci.exceptions.ServiceError:
    return oci.exceptions.ServiceError(status, "Code", {}, "message")


def test_failures_are_classified_for_retry() -> None:
    assert classify(_service_error(429)) is Failure.THROTTLED
    assert classify(_service_error(503)) is Failure.TRANSIENT
    assert classify(_service_error(400)) is Failure.FATAL
    assert classify(_service_error(501)) is Failure.FATAL
    assert classify(ConnectionResetError()) is Failure.TRANSIENT
    assert classify(KeyError("bug")) is Failure.FATAL
