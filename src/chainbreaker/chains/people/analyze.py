"""People analysis: ``chainbreaker people analyze [--as-of DATE]``.

Trips and per-person metrics (window ``lead`` to pair each exit with the next record, a range join
for onward flights, per-person aggregates) are Ibis expressions in ``trips.py`` that run on the
engine (DuckDB or Spark); co-travel pairs (window ``lead`` for seat neighbours), groups and findings
are set-based DuckDB SQL over the engine's results, and the only Python step is connected
components of the co-travel graph (igraph, vectorised). 10M records fit in minutes on two cores.

Tables written: ``travel_trips`` (one row per exit), ``travel_person_metrics`` (one row per
person), ``travel_groups`` (organised groups), ``travel_pairs`` (repeated co-travel pairs), and
the people chain's findings: ``travel.stranded``, ``travel.frequent``, ``travel.group``,
``travel.companion``, ``travel.kin``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from chainbreaker.chains.people.destinations import load_destinations
from chainbreaker.chains.people.params import load_params
from chainbreaker.chains.people.trips import (
    crossings,
    cutoff_instant,
    metrics,
    onward,
    person_ids,
    sequence,
    trips,
)
from chainbreaker.core.engine import ENGINES, Engine
from chainbreaker.core.errors import InputError
from chainbreaker.core.model.finding import FINDINGS_SCHEMA, Scope, publish
from chainbreaker.core.settings import get_settings
from chainbreaker.core.sql import lit
from chainbreaker.core.workspace import Workspace

RULE_VERSION = "1"


@dataclass
class AnalyzeResult:
    run_id: str
    as_of: dt.date
    persons: int = 0
    trips: int = 0
    findings: dict[str, int] = field(default_factory=dict)
    groups: int = 0
    anomalies: dict[str, int] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    destinations_version: str = ""


def _finding_sql(run_id: str, rule: str, subject_type: str, body: str) -> str:
    """Wrap a SELECT of (subject_key, score, facts, zh, en, evidence, period_start, period_end) as findings rows."""
    return f"""
        SELECT NULL::VARCHAR AS id, {lit(run_id)} AS run_id, 'people' AS chain, '{rule}' AS rule_id, '{RULE_VERSION}' AS rule_version,
               '{subject_type}' AS subject_type, subject_key, CAST(score AS DOUBLE) AS score,
               NULL::VARCHAR AS severity,  -- id and severity: the Finding store fills them
               CAST(period_start AS TIMESTAMPTZ) AS period_start, CAST(period_end AS TIMESTAMPTZ) AS period_end,
               CAST(facts AS VARCHAR) AS facts, explanation_zh, explanation_en, CAST(evidence AS VARCHAR) AS evidence
        FROM ({body})
    """


def analyze(ws: Workspace, as_of: dt.date | None = None, *, engine: str = "duckdb", **overrides: Any) -> AnalyzeResult:
    """Analyse the travel tables as of ``as_of`` (default: today) and write results and findings.

    Trips and per-person metrics (stranded, frequent) run on ``engine`` (Ibis: DuckDB or Spark); the
    co-travel pairs, groups (igraph components) and findings run in DuckDB over its results."""
    if engine not in ENGINES:
        raise InputError(f"未知引擎 {engine}，可选：{'、'.join(ENGINES)}", f"Unknown engine {engine}; use one of {ENGINES}")
    if not ws.has_table("travel_crossings"):
        raise InputError("工作区中还没有出入境记录。请先运行 chainbreaker ingest travel。",
                         "No exit/entry records in the workspace yet. Run 'chainbreaker ingest travel' first.")
    settings = get_settings()
    params = load_params(ws.config_dir, **overrides)
    dest = load_destinations(ws.config_dir)
    as_of = as_of or dt.datetime.now(dt.UTC).date()
    run_settings = {"as_of": as_of.isoformat(), "engine": engine, **params, "destinations_version": dest.version,
                    "destinations_sha256": dest.sha256, "destinations_path": str(dest.path)}
    with ws.transaction("people.analyze", inputs=["travel_crossings"], settings=run_settings) as tx, \
            ws.scratch("people-analyze") as spill:  # removed whatever happens
        con = tx.con
        con.execute(f"SET memory_limit = {lit(settings.duckdb_memory_limit)}")
        con.execute(f"SET threads = {int(settings.duckdb_threads)}")
        con.execute("SET TimeZone = 'Asia/Shanghai'")
        con.execute("SET preserve_insertion_order = false")
        res = AnalyzeResult(tx.run_id, as_of, params=params, destinations_version=dest.version)
        # end of the as-of day, Beijing time
        cutoff = f"CAST({lit(as_of.isoformat() + ' 23:59:59.999999+08:00')} AS TIMESTAMPTZ)"
        raw_values = [r[0] for r in con.sql(
            "SELECT DISTINCT country_raw FROM travel_crossings"
            + (" UNION SELECT DISTINCT arr_country_raw FROM travel_flights" if tx.has_table("travel_flights") else "")
        ).fetchall()]
        con.register("_dest_arrow", dest.lookup_table(raw_values))
        con.execute("CREATE OR REPLACE TEMP TABLE dest AS SELECT * FROM _dest_arrow")
        # trips and per-person metrics on the engine (Ibis; the engine's session zone is UTC)
        eng = Engine(ws, engine, duck=con)
        _on_engine(eng, tx, params, as_of, spill)
        con.execute("SET TimeZone = 'Asia/Shanghai'")  # the rest is DuckDB SQL in Beijing time
        with tx.timed("groups"):
            n_groups = _groups(con, tx, params, cutoff)
        with tx.timed("findings"):
            findings = _findings(con, tx.run_id, params, cutoff, dest.version)
        with tx.timed("write"):
            # SQL strings are copied to Parquet by DuckDB directly, without passing through Python
            tx.write("travel_trips", "SELECT pk.person_key, t.* EXCLUDE (pid) FROM trips t JOIN pk USING (pid) "
                                     "ORDER BY pk.person_key, t.exit_ts")
            tx.write("travel_person_metrics", "SELECT * EXCLUDE (pid) FROM metrics ORDER BY person_key")
            publish(tx, "people", findings, Scope(rule_prefix="travel."))
        res.persons = int(con.sql("SELECT count(*) FROM metrics").fetchall()[0][0])
        res.trips = int(con.sql("SELECT count(*) FROM trips").fetchall()[0][0])
        res.groups = n_groups
        res.findings = {str(k): int(v) for k, v in con.sql(
            "SELECT rule_id, count(*) FROM _findings_new GROUP BY 1 ORDER BY 1").fetchall()}
        an = con.sql("""SELECT sum(entries_without_exit), sum(exits_without_entry), sum(future_records),
                               sum(invalid_id_records), count(*) FILTER (WHERE NOT id_valid) FROM metrics""").fetchall()[0]
        res.anomalies = {"entries_without_exit": int(an[0] or 0), "exits_without_entry": int(an[1] or 0),
                         "records_after_as_of": int(an[2] or 0),
                         "invalid_id_records": int(an[3] or 0), "persons_without_valid_id": int(an[4] or 0)}
        tx.counts.update(persons=res.persons, trips=res.trips, groups=n_groups, findings=res.findings,
                         anomalies=res.anomalies)
    return res


def _on_engine(eng: Engine, tx: Any, params: dict[str, Any], as_of: dt.date, spill: Path) -> None:
    """Temp tables ``pk``, ``cx``, ``trips`` and ``metrics`` of the run's DuckDB connection, computed
    on the engine (on DuckDB they are made in place; on Spark they come back as Arrow)."""
    cutoff = cutoff_instant(as_of)
    sources = [t for t in ("travel_crossings", "travel_flights", "travel_trains", "travel_hotels") if tx.has_table(t)]
    cross = eng.table("travel_crossings")
    dest = eng.from_duck("dest")
    with tx.timed("trips"):
        pk = eng.materialise(person_ids([eng.table(t) for t in sources]), "pk", spill)
        cx = eng.materialise(crossings(cross, pk, dest, cutoff), "cx", spill)
        seq = eng.materialise(sequence(cx), "seq", spill)
        ow = onward(seq, eng.table("travel_flights"), pk, dest, cutoff) if tx.has_table("travel_flights") else None
        tr = eng.materialise(trips(seq, ow, cutoff), "trips", spill)
    with tx.timed("metrics"):
        me = eng.materialise(metrics(seq, tr, pk, cross, params, cutoff), "metrics", spill)
    for name, table in (("pk", pk), ("cx", cx), ("trips", tr), ("metrics", me)):
        eng.into_duck(table, name)


def _groups(con: Any, tx: Any, params: dict[str, Any], cutoff: str) -> int:
    """Co-travel pairs → repeated pairs → connected components = organised groups."""
    events = ["""SELECT pid, 'tour' AS kind, hash(tour_no, CAST(ts AS DATE)) AS ek, CAST(ts AS DATE) AS day
                 FROM cx WHERE direction = 'exit' AND tour_no IS NOT NULL"""]
    seats = []
    seat_ord = ("TRY_CAST(regexp_extract({c}, '^(\\d+)', 1) AS INTEGER) * 10 "
                "+ least(ascii(upper(regexp_extract({c}, '([A-Za-z])$', 1))) - 65, 9)")
    day_ok = f"<= CAST({cutoff} AS DATE)"
    if tx.has_table("travel_flights"):
        fl = "travel_flights f JOIN pk USING (person_key)"
        events.append(f"""SELECT pid, 'cobook', hash('cobook', cobook_id, flight_date), flight_date FROM {fl}
                          WHERE cobook_id IS NOT NULL AND flight_date {day_ok}""")
        events.append(f"""SELECT pid, 'group_flag', hash('gflag', flight_no, flight_date), flight_date FROM {fl}
                          WHERE group_flag AND flight_date {day_ok}""")
        seats.append(f"""SELECT pid, hash('flight', flight_no, flight_date) AS vk, flight_date AS day,
                                {seat_ord.format(c='seat')} AS ord, 'seat_flight' AS kind
                         FROM {fl} WHERE seat IS NOT NULL AND flight_date {day_ok}""")
    if tx.has_table("travel_trains"):
        seats.append(f"""SELECT pid, hash('train', train_no, dep_date, car_no), dep_date, {seat_ord.format(c='seat_no')},
                                'seat_train' FROM travel_trains JOIN pk USING (person_key)
                         WHERE seat_no IS NOT NULL AND dep_date {day_ok}""")
    if tx.has_table("travel_hotels"):
        events.append(f"""SELECT pid, 'room', hash('room', hotel_name, room_no, CAST(checkin AS DATE)), CAST(checkin AS DATE)
                          FROM travel_hotels JOIN pk USING (person_key)
                          WHERE room_no IS NOT NULL AND CAST(checkin AS DATE) {day_ok}""")
    w = int(params["seat_window"])
    pair_parts = ["""SELECT a.pid AS a, b.pid AS b, a.day, a.kind FROM ev a JOIN ev b ON a.ek = b.ek AND a.pid < b.pid"""]
    con.execute("CREATE OR REPLACE TEMP TABLE ev AS " + " UNION ALL ".join(events))
    if seats:
        con.execute("CREATE OR REPLACE TEMP TABLE seats AS SELECT * FROM (" + " UNION ALL ".join(seats)
                    + ") WHERE ord IS NOT NULL")
        leads = ", ".join(f"lead(pid, {i}) OVER v AS p{i}, lead(ord, {i}) OVER v AS o{i}" for i in range(1, w + 1))
        con.execute(f"CREATE OR REPLACE TEMP TABLE seat_nb AS SELECT pid, day, ord, kind, {leads} FROM seats "
                    "WINDOW v AS (PARTITION BY vk ORDER BY ord, pid)")
        for i in range(1, w + 1):
            pair_parts.append(f"""SELECT least(pid, p{i}), greatest(pid, p{i}), day, kind FROM seat_nb
                                  WHERE p{i} IS NOT NULL AND p{i} <> pid AND o{i} - ord <= {w}""")
    gap = int(params["trip_gap_days"])
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE pair_days AS
        SELECT a, b, day, list(DISTINCT kind ORDER BY kind) AS kinds FROM ({' UNION ALL '.join(pair_parts)}) GROUP BY 1, 2, 3
    """)
    # pairs seen on one day only cannot be repeated co-travellers: keep the work to the rest
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE pairs AS
        WITH multi AS (SELECT a, b FROM pair_days GROUP BY 1, 2 HAVING max(day) - min(day) > {gap}),
        e AS (
            SELECT d.*, CASE WHEN lag(day) OVER (PARTITION BY d.a, d.b ORDER BY day) IS NULL
                             OR day - lag(day) OVER (PARTITION BY d.a, d.b ORDER BY day) > {gap} THEN 1 ELSE 0 END AS new_trip
            FROM pair_days d SEMI JOIN multi m ON m.a = d.a AND m.b = d.b
        )
        SELECT a, b, CAST(sum(new_trip) AS BIGINT) AS trips_together, min(day) AS first_day, max(day) AS last_day,
               list_sort(list_distinct(flatten(list(kinds)))) AS kinds
        FROM e GROUP BY 1, 2
    """)
    min_trips = int(params["group_min_trips"])
    edges = con.sql(f"SELECT a, b FROM pairs WHERE trips_together >= {min_trips}").to_arrow_table()
    comp_pid: list[int] = []
    comp_id: list[int] = []
    if edges.num_rows:
        import igraph

        a = edges["a"].to_numpy().astype(np.int64)
        b = edges["b"].to_numpy().astype(np.int64)
        verts, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
        g = igraph.Graph(n=len(verts), edges=inv.reshape(2, -1).T.tolist(), directed=False)
        membership = np.array(g.connected_components().membership)
        sizes = np.bincount(membership)
        keep = sizes[membership] >= int(params["group_min_size"])
        comp_pid = verts[keep].tolist()
        comp_id = membership[keep].tolist()
    con.register("_gm", pa.table({"comp": pa.array(comp_id, pa.int64()), "pid": pa.array(comp_pid, pa.int32())}))
    con.execute("""CREATE OR REPLACE TEMP TABLE group_members AS
                   SELECT 'TG-' || substr(sha1(min(pk.person_key) OVER (PARTITION BY g.comp)), 1, 10) AS group_id,
                          g.pid, pk.person_key
                   FROM _gm g JOIN pk USING (pid)""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE groups AS
        WITH inner_pairs AS (
            SELECT ga.group_id, p.* FROM pairs p
            JOIN group_members ga ON ga.pid = p.a JOIN group_members gb ON gb.pid = p.b
            WHERE ga.group_id = gb.group_id
        ), gdays AS (
            SELECT DISTINCT g.group_id, d.day FROM pair_days d
            JOIN group_members g ON g.pid = d.a JOIN group_members g2 ON g2.pid = d.b
            WHERE g.group_id = g2.group_id
        ), gtrips AS (
            SELECT group_id, day, CASE WHEN lag(day) OVER (PARTITION BY group_id ORDER BY day) IS NULL
                     OR day - lag(day) OVER (PARTITION BY group_id ORDER BY day) > {gap} THEN 1 ELSE 0 END AS new_trip
            FROM gdays
        ), dests AS (
            SELECT g.group_id, list(DISTINCT coalesce(t.onward_dest, t.dest_zh) ORDER BY coalesce(t.onward_dest, t.dest_zh))
                       AS destinations,
                   bool_or(t.listed_trip) AS listed,
                   list({{'table': 'travel_crossings', 'record_id': t.record_id, 'file_sha256': t.src_sha256,
                          'row': t.src_row}} ORDER BY t.exit_ts, t.record_id) AS refs
            FROM group_members g JOIN trips t ON t.pid = g.pid
            JOIN gdays d ON d.group_id = g.group_id AND CAST(t.exit_ts AS DATE) BETWEEN d.day - 1 AND d.day + {gap}
            GROUP BY 1
        )
        SELECT m.group_id, count(DISTINCT m.person_key) AS size,
               list(DISTINCT m.person_key ORDER BY m.person_key) AS members,
               CAST((SELECT sum(new_trip) FROM gtrips x WHERE x.group_id = m.group_id) AS BIGINT) AS trips,
               (SELECT min(day) FROM gdays x WHERE x.group_id = m.group_id) AS first_day,
               (SELECT max(day) FROM gdays x WHERE x.group_id = m.group_id) AS last_day,
               coalesce(any_value(d.destinations), []) AS destinations,
               coalesce(any_value(d.listed), false) AS listed,
               (SELECT list_sort(list_distinct(flatten(list(kinds)))) FROM inner_pairs x WHERE x.group_id = m.group_id)
                   AS evidence_kinds,
               to_json(coalesce(any_value(d.refs)[1:50], [])) AS evidence
        FROM group_members m LEFT JOIN dests d ON d.group_id = m.group_id
        GROUP BY m.group_id
    """)
    tx.write("travel_groups", "SELECT * FROM groups ORDER BY group_id")
    tx.write("travel_pairs", f"""
        SELECT ka.person_key AS a, kb.person_key AS b, p.trips_together, p.first_day, p.last_day, p.kinds
        FROM pairs p JOIN pk ka ON ka.pid = p.a JOIN pk kb ON kb.pid = p.b
        WHERE p.trips_together >= {min_trips} ORDER BY 1, 2""")
    return int(con.sql("SELECT count(*) FROM groups").fetchall()[0][0])


def _findings(con: Any, run_id: str, params: dict[str, Any], cutoff: str, dest_version: str) -> pa.Table:
    n_days = int(params["stranded_days"])
    k = int(params["frequent_trips"])
    window = int(params["window_days"])
    comp_min = int(params["companion_min_trips"])
    ref = "{'table': 'travel_crossings', 'record_id': t.record_id, 'file_sha256': t.src_sha256, 'row': t.src_row}"
    stranded = f"""
        SELECT m.person_key AS subject_key, least(1.0, 0.7 + m.days_since_last / 365.0 * 0.3) AS score,
               json_object('days_abroad', m.days_since_last, 'destination', t.onward_dest_or_dest, 'town', m.last_trip_town,
                           'via_third_country', m.last_trip_via_third, 'exit_time', m.last_ts, 'threshold_days', {n_days},
                           'destinations_version', {lit(dest_version)}, 'id_valid', m.id_valid) AS facts,
               format('最后一条记录为 {{}} 出境前往{{}}{{}}{{}}，至今 {{}} 天无入境记录（阈值 {{}} 天）。',
                      strftime(m.last_ts, '%Y-%m-%d'), t.onward_dest_or_dest,
                      CASE WHEN m.last_trip_town IS NOT NULL THEN '（' || m.last_trip_town || '）' ELSE '' END,
                      CASE WHEN m.last_trip_via_third THEN '，经第三国（' || t.dest_zh || '）中转' ELSE '' END,
                      CAST(floor(m.days_since_last) AS INTEGER), {n_days}) AS explanation_zh,
               format('Last record is an exit on {{}} to {{}}{{}}; no entry for {{}} days (threshold {{}}).',
                      strftime(m.last_ts, '%Y-%m-%d'), t.onward_dest_or_dest,
                      CASE WHEN m.last_trip_via_third THEN ' via a third country (' || t.dest_zh || ')' ELSE '' END,
                      CAST(floor(m.days_since_last) AS INTEGER), {n_days}) AS explanation_en,
               to_json(list_filter([{ref},
                        CASE WHEN t.onward_record IS NOT NULL THEN {{'table': 'travel_flights', 'record_id': t.onward_record,
                             'file_sha256': t.onward_sha, 'row': t.onward_row}} END], lambda x: x IS NOT NULL)) AS evidence,
               m.last_ts AS period_start, {cutoff} AS period_end
        FROM metrics m JOIN (SELECT *, coalesce(onward_dest, dest_zh) AS onward_dest_or_dest FROM trips) t
             ON t.pid = m.pid AND t.exit_ts = m.last_ts
        WHERE m.stranded
    """
    frequent = f"""
        SELECT m.person_key AS subject_key, least(1.0, 0.5 + 0.05 * (m.trips_listed_12m - {k})) AS score,
               json_object('trips_listed_12m', m.trips_listed_12m, 'threshold', {k}, 'via_third_trips', m.via_third_trips,
                           'short_land_trips_12m', m.short_land_trips_12m, 'total_dwell_days', m.total_dwell_days,
                           'longest_dwell_days', m.longest_dwell_days, 'destinations', x.dests,
                           'destinations_version', {lit(dest_version)}) AS facts,
               format('近 {{}} 天内前往重点目的地（{{}}）{{}} 次（阈值 {{}} 次），其中陆路口岸短期往返 {{}} 次、经第三国中转 {{}} 次。',
                      {window}, array_to_string(x.dests, '、'), m.trips_listed_12m, {k}, m.short_land_trips_12m,
                      m.via_third_trips) AS explanation_zh,
               format('{{}} trips to listed destinations ({{}}) in the last {{}} days (threshold {{}}); {{}} short land-port round trips, {{}} via a third country.',
                      m.trips_listed_12m, array_to_string(x.dests, ', '), {window}, {k}, m.short_land_trips_12m,
                      m.via_third_trips) AS explanation_en,
               to_json(x.refs[1:20]) AS evidence, x.first_exit AS period_start, {cutoff} AS period_end
        FROM metrics m JOIN (
            SELECT t.pid, list(DISTINCT coalesce(t.onward_dest, t.dest_zh) ORDER BY coalesce(t.onward_dest, t.dest_zh)) AS dests, min(t.exit_ts) AS first_exit,
                   list({ref} ORDER BY t.exit_ts DESC) AS refs
            FROM trips t WHERE t.listed_trip AND t.exit_ts > {cutoff} - INTERVAL {window} DAY GROUP BY 1
        ) x USING (pid)
        WHERE m.frequent
    """
    group = """
        SELECT group_id AS subject_key, least(1.0, 0.5 + 0.05 * trips + 0.02 * size) AS score,
               json_object('size', size, 'members', members, 'trips', trips, 'destinations', destinations,
                           'evidence_kinds', evidence_kinds, 'first_day', first_day, 'last_day', last_day) AS facts,
               format('{} 人多次结伴出行 {} 次（依据：{}），前往 {}。', size, trips,
                      array_to_string(list_transform(evidence_kinds, lambda k: CASE k WHEN 'tour' THEN '同一旅游团号'
                          WHEN 'cobook' THEN '共同订票' WHEN 'group_flag' THEN '团体票' WHEN 'room' THEN '同住一房'
                          WHEN 'seat_flight' THEN '航班邻座' WHEN 'seat_train' THEN '列车同车厢邻座' ELSE k END), '、'),
                      array_to_string(destinations, '、')) AS explanation_zh,
               format('{} people left together {} times (evidence: {}) to {}.', size, trips,
                      array_to_string(evidence_kinds, ', '), array_to_string(destinations, ', ')) AS explanation_en,
               evidence, CAST(first_day AS TIMESTAMPTZ) AS period_start, CAST(last_day AS TIMESTAMPTZ) AS period_end
        FROM groups WHERE listed
    """
    con.execute("""CREATE OR REPLACE TEMP TABLE flagged AS
                   SELECT pid, CASE WHEN stranded THEN 'stranded' ELSE 'frequent' END AS why FROM metrics
                   WHERE stranded OR frequent
                   UNION SELECT gm.pid, 'group' FROM group_members gm JOIN groups g USING (group_id) WHERE g.listed""")
    companion = f"""
        WITH c0 AS (
            SELECT p.b AS pid, p.a AS flagged_pid, p.trips_together, p.kinds, p.first_day, p.last_day, f.why
            FROM pairs p JOIN flagged f ON f.pid = p.a WHERE p.trips_together >= {comp_min}
            UNION ALL
            SELECT p.a, p.b, p.trips_together, p.kinds, p.first_day, p.last_day, f.why
            FROM pairs p JOIN flagged f ON f.pid = p.b WHERE p.trips_together >= {comp_min}
        ), c AS (
            SELECT k.person_key, kf.person_key AS flagged_key, c0.* FROM c0
            JOIN pk k ON k.pid = c0.pid JOIN pk kf ON kf.pid = c0.flagged_pid
            WHERE c0.pid NOT IN (SELECT pid FROM flagged)
        )
        SELECT person_key AS subject_key, least(1.0, 0.4 + 0.1 * max(trips_together)) AS score,
               json_object('companions', list({{'person_key': flagged_key, 'why': why, 'trips_together': trips_together,
                                               'kinds': kinds}} ORDER BY flagged_key)) AS facts,
               format('与 {{}} 名重点出行人员多次同行（最多 {{}} 次）。', count(*), max(trips_together)) AS explanation_zh,
               format('Travelled repeatedly with {{}} flagged traveller(s) (up to {{}} times).', count(*), max(trips_together))
                   AS explanation_en,
               to_json(list({{'table': 'travel_pairs', 'a': least(person_key, flagged_key),
                              'b': greatest(person_key, flagged_key)}} ORDER BY flagged_key)) AS evidence,
               min(first_day) AS period_start, max(last_day) AS period_end
        FROM c GROUP BY person_key
    """
    kin = """
        WITH s AS (SELECT person_key FROM metrics WHERE stranded),
        k AS (
            SELECT kin_key AS person_key, person_key AS stranded_key, relation, record_id, src_sha256, src_row
            FROM travel_kin WHERE person_key IN (SELECT person_key FROM s)
            UNION ALL
            SELECT person_key, kin_key, relation, record_id, src_sha256, src_row
            FROM travel_kin WHERE kin_key IN (SELECT person_key FROM s)
        )
        SELECT person_key AS subject_key, 0.45 AS score,
               json_object('stranded_kin', list({'person_key': stranded_key, 'relation': relation}
                                                ORDER BY stranded_key, relation)) AS facts,
               format('其亲属（{}）滞留境外。', string_agg(DISTINCT coalesce(relation, '亲属'), '、')) AS explanation_zh,
               format('Kin ({}) of a person stranded abroad.', string_agg(DISTINCT coalesce(relation, 'kin'), ', '))
                   AS explanation_en,
               to_json(list({'table': 'travel_kin', 'record_id': record_id, 'file_sha256': src_sha256, 'row': src_row}
                            ORDER BY record_id))
                   AS evidence,
               NULL AS period_start, NULL AS period_end
        FROM k WHERE person_key NOT IN (SELECT person_key FROM s)
        GROUP BY person_key
    """
    parts = [_finding_sql(run_id, "travel.stranded", "person", stranded),
             _finding_sql(run_id, "travel.frequent", "person", frequent),
             _finding_sql(run_id, "travel.group", "group", group),
             _finding_sql(run_id, "travel.companion", "person", companion)]
    if "travel_kin" in {r[0] for r in con.sql("SELECT view_name FROM duckdb_views()").fetchall()}:
        parts.append(_finding_sql(run_id, "travel.kin", "person", kin))
    con.execute("CREATE OR REPLACE TEMP TABLE _findings_new AS " + " UNION ALL ".join(parts))
    return con.sql("SELECT * FROM _findings_new ORDER BY rule_id, score DESC, subject_key").to_arrow_table() \
        .cast(FINDINGS_SCHEMA)
