from __future__ import annotations

import pyarrow.compute as pc

from chainbreaker.core.model.identifiers import ResidentID
from chainbreaker.synth.travel import generate_travel


def test_generator_is_deterministic_and_ids_are_valid():
    a = generate_travel(800, seed=3)
    b = generate_travel(800, seed=3)
    assert a.crossings.equals(b.crossings)
    assert a.flights.equals(b.flights)
    ids = a.truth_persons["id_number"].to_pylist()
    assert len(set(ids)) == len(ids)
    assert all(ResidentID.validate(i)[0] for i in ids)


def test_every_category_present_with_truth():
    d = generate_travel(3000, seed=5)
    cats = set(d.truth_persons["category"].to_pylist())
    assert cats == {"tourist", "business", "longstay", "gambler", "labour", "recent", "group", "companion"}
    assert pc.sum(d.truth_persons["stranded"]).as_py() > 0
    assert d.truth_groups.num_rows > 0
    assert d.kin.num_rows > 0 and d.trains.num_rows > 0 and d.hotels.num_rows > 0
