"""The simulated injection kit (synth) keeps its own spider pattern (synth builds on core only); it must
still see every spider persona of the scanner and no browser persona."""

from chainbreaker.chains.tech.personas import default_personas
from chainbreaker.synth.websites import _SPIDER


def test_synth_kit_recognises_every_spider_persona() -> None:
    pattern = _SPIDER
    personas = default_personas()
    spiders = [p for p in personas if p.is_spider]
    assert spiders
    for p in spiders:
        assert pattern.search(p.user_agent), p.name
    for p in personas:
        if not p.is_spider:
            assert not pattern.search(p.user_agent), p.name
