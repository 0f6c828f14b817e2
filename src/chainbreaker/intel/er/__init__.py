"""Person entity resolution across chains (人员同一认定).

Bank holders and KYC rows, platform members with real names, travellers and their kin are gathered
into ``person_records`` (each keeps its source table, file hash and row). Records that share an
identifier (ID number, mobile number, bank card) are joined first (exact pivots); Splink scores the
remaining pairs on name (characters and pinyin), the ID's parts (region, birth date, sequence),
phone and address. Analysts' judgements (accept, reject, merge, split, undo) are applied after every
run. Outputs:
``person_matches`` (every link with its method, weight and comparison levels) and
``person_clusters`` (record → resolved person).
"""
