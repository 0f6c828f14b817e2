"""The simulated injection kit (synth) keeps its own spider pattern; it must still see every spider persona."""

import re

from chainbreaker.chains.tech.personas import default_personas
from chainbreaker.synth.websites import SPIDER_UA_PATTERN


def test_synth_kit_recognises_every_spider_persona() -> None:
    pattern = re.compile(SPIDER_UA_PATTERN, re.I)
    personas = default_personas()
    spiders = [p for p in personas if p.is_spider]
    assert spiders
    for p in spiders:
        assert pattern.search(p.user_agent), p.name
    for p in personas:
        if not p.is_spider:
            assert not pattern.search(p.user_agent), p.name
