#!/bin/sh
# agexpr_json.sh EXPECTED_STATUS AGEXPR 'CHECK;;CHECK...' ARGS...
# Runs AGEXPR ARGS (which include --json), requires the exit status, then that stdout is one
# valid JSON object satisfying every CHECK (a Python expression over the parsed object d).
expected=$1 agexpr=$2 checks=$3
shift 3
out=$("$agexpr" "$@")
status=$?
if [ "$status" -ne "$expected" ]; then
  echo "exit status $status, expected $expected"
  exit 1
fi
old_ifs=$IFS
IFS='
'
# shellcheck disable=SC2046
set -- $(printf '%s' "$checks" | sed 's/;;/\n/g')
IFS=$old_ifs
printf '%s' "$out" | /usr/bin/python3 "$(dirname "$0")/json_check.py" "$@"
