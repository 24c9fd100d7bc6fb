"""Reads agexpr --json output on stdin, checks that it is one valid JSON object and the
assertions given as Python expressions over `d` (the parsed object). Exit 1 on failure."""
import json
import sys

d = json.load(sys.stdin)
assert isinstance(d, dict), "not a JSON object"
for expression in sys.argv[1:]:
    if not eval(expression, {}, {"d": d}):
        print("failed:", expression, "in", json.dumps(d)[:2000])
        sys.exit(1)
print("json ok:", len(sys.argv) - 1, "checks")
