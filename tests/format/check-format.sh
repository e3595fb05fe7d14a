#!/usr/bin/env bash
# Fails when any tracked C++ file differs from what clang-format makes of it (.clang-format).
set -euo pipefail
cd "$1"
files=$(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find . -name '*.cpp' -o -name '*.hpp' | grep -v '^./build')
[[ -n "$files" ]] || { echo "no C++ files found" >&2; exit 1; }
bad=()
for f in $files; do
    clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [[ ${#bad[@]} -gt 0 ]]; then
    echo "clang-format would change: ${bad[*]}" >&2
    echo "fix with: clang-format -i ${bad[*]}" >&2
    exit 1
fi
echo "$(echo "$files" | wc -l) files follow .clang-format"
