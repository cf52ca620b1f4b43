#!/usr/bin/env python3
"""Count Pabulib files with the reference implementation (pabutools) under Locality's four rules.

Usage: pabutools_reference.py FILE.pb [FILE.pb ...]
Prints one JSON object per file, on one line: {"file": ..., "funded": {rule: [ids sorted]}, "seconds": {rule: s}}.

The rules, as Locality defines them (cost satisfaction, ties by project id as text):
  greedy           greedy utilitarian welfare with cost satisfaction: approvals per project
  mes              Method of Equal Shares
  mes-add1-greedy  Equal Shares with the per-voter budget raised one unit at a time, completed greedily
  phragmen         sequential Phragmén
Exact arithmetic throughout (pabutools' default fractions; gmpy2 if installed).
"""
import json
import sys
import time

from pabutools.election import parse_pabulib, Cost_Sat
from pabutools.rules import (
    greedy_utilitarian_welfare,
    method_of_equal_shares,
    sequential_phragmen,
    completion_by_rule_combination,
)


def count(path):
    instance, profile = parse_pabulib(path)
    rules = {
        "greedy": lambda: greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat),
        "mes": lambda: method_of_equal_shares(instance, profile, sat_class=Cost_Sat),
        "mes-add1-greedy": lambda: completion_by_rule_combination(
            instance,
            profile,
            [method_of_equal_shares, greedy_utilitarian_welfare],
            [{"sat_class": Cost_Sat, "voter_budget_increment": 1}, {"sat_class": Cost_Sat}],
        ),
        "phragmen": lambda: sequential_phragmen(instance, profile),
    }
    funded, seconds = {}, {}
    for name, rule in rules.items():
        start = time.perf_counter()
        outcome = rule()
        seconds[name] = time.perf_counter() - start
        funded[name] = sorted(p.name for p in outcome)
    return {"file": path, "funded": funded, "seconds": seconds}


if __name__ == "__main__":
    for path in sys.argv[1:]:
        print(json.dumps(count(path)), flush=True)
