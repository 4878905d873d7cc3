#!/bin/sh
# abi-check.sh LIB - the shared library exports only sfshm_* symbols,
# all under the version node of libsfshm.map.
set -e
lib=$1
bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDB]/ {print $3}' |
	grep -v '^sfshm_' | grep -v '^SFSHM_' || true)
if [ -n "$bad" ]; then
	echo "abi-check: unexpected exports in $lib:" >&2
	echo "$bad" >&2
	exit 1
fi
n=$(nm -D --defined-only "$lib" | grep -c ' T sfshm_')
echo "  ABI     $lib exports $n sfshm_* functions"
