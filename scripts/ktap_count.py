#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Count KUnit case results from kunit.py's --json output.

Prints "passed failed skipped".  A missing or unreadable file counts as one
failure, so a run that produced nothing can never look green.
"""
import json
import sys


def walk(node, counts):
    for case in node.get("test_cases", []):
        status = case.get("status", "FAIL")
        counts["PASS" if status == "PASS" else
               "SKIP" if status == "SKIP" else "FAIL"] += 1
    for sub in node.get("sub_groups", []):
        walk(sub, counts)


def main():
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    path = sys.argv[2] if len(sys.argv) > 2 else sys.argv[1]
    try:
        with open(path) as f:
            walk(json.load(f), counts)
    except (OSError, ValueError) as e:
        print(f"ktap_count: {path}: {e}", file=sys.stderr)
        counts["FAIL"] += 1
    print(counts["PASS"], counts["FAIL"], counts["SKIP"])


if __name__ == "__main__":
    main()
