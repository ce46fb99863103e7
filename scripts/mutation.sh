#!/usr/bin/env bash
# Mutation testing of the VRRP core and the exporter's rendering and auth
# code against the unit, conformance and exporter tests (issue 12).
#
#   scripts/mutation.sh [options] [LIST...]
#
# LIST: mutant lists (format at the top of scripts/mutants/core.txt);
# default: every scripts/mutants/*.txt. Each mutant is applied alone to a
# copy of the tree (BUILD_DIR/src: the working tree is never touched), the
# test executables are rebuilt incrementally in BUILD_DIR/build, and they
# run one after the other until one fails (the mutant is killed), all pass
# (it survived) or the per-mutant timeout passes (killed: a hang is a
# detected bug). Prints and writes BUILD_DIR/mutation-report.md: every
# mutant's fate and the score per file, killed / (mutants - equivalent).
#
# Options:
#   --sample          only the mutants tagged `ci` (what scripts/test.sh runs)
#   --only ID[,ID..]  only these mutants
#   --build-dir DIR   default: build-mutation (build-mutation-sample with
#                     --sample)
#   --tests "T ..."   test executables to build and run (default: every
#                     unit test, conformance_test and every exporter test
#                     but pi_mutex_test; with --sample, only those that
#                     kill the sample's mutants)
#   --timeout SEC     per mutant, for its tests (default 120)
#   --min-score PCT   fail when a file scores below it (default 90; with
#                     --sample 100: every sample mutant must be killed)
#   -j N              build jobs (default: nproc)
#
# Exit status: 0 when every file reaches --min-score and every mutant
# applied and built; 1 otherwise; 2 when the tests fail without a mutant.
# The last line is `mutation: K killed, S survived, E equivalent, B broken`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

sample=0
only=""
build_dir=""
tests=""
timeout_s=120
min_score=""
jobs=$(nproc)
lists=()
while [ $# -gt 0 ]; do
  case $1 in
    --sample) sample=1 ;;
    --only) only=$2; shift ;;
    --build-dir) build_dir=$2; shift ;;
    --tests) tests=$2; shift ;;
    --timeout) timeout_s=$2; shift ;;
    --min-score) min_score=$2; shift ;;
    -j) jobs=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "mutation.sh: unknown option $1" >&2; exit 2 ;;
    *) lists+=("$(cd "$(dirname "$1")" && pwd)/$(basename "$1")") ;;
  esac
  shift
done
[ ${#lists[@]} -gt 0 ] || lists=("$root"/scripts/mutants/*.txt)
if [ -z "$build_dir" ]; then
  build_dir=$root/build-mutation
  [ $sample -eq 0 ] || build_dir=$root/build-mutation-sample
fi
[ -n "$min_score" ] || min_score=$([ $sample -eq 1 ] && echo 100 || echo 90)
mkdir -p "$build_dir"
build_dir=$(cd "$build_dir" && pwd)
src=$build_dir/src
obj=$build_dir/build
work=$build_dir/work
report=$build_dir/mutation-report.md
mkdir -p "$work"

# Parses the lists, and applies one mutant to a file. Python only for text
# handling: exact, whitespace-tolerant search and replace.
mutant_tool() {
  python3 - "$@" <<'PY'
import os, re, sys

def parse(paths):
    mutants, cur = [], None
    for path in paths:
        for n, raw in enumerate(open(path), 1):
            line = raw.rstrip("\n")
            where = f"{path}:{n}"
            if line.startswith("== "):
                words = line[3:].split()
                if len(words) < 2:
                    sys.exit(f"{where}: '== ID FILE [ci]' expected")
                cur = {"id": words[0], "file": words[1], "ci": "ci" in words[2:],
                       "find": [], "repl": [], "equiv": [], "where": where}
                mutants.append(cur)
            elif line.startswith("#") or not line.strip():
                continue
            elif cur is None:
                sys.exit(f"{where}: text before the first '== ID FILE'")
            elif line[:2] in ("- ", "+ ", "~ ") or line in ("-", "+", "~"):
                key = {"-": "find", "+": "repl", "~": "equiv"}[line[0]]
                cur[key].append(line[2:])
            else:
                sys.exit(f"{where}: lines start with '== ', '- ', '+ ', '~ ' or '#'")
    ids = set()
    for m in mutants:
        if m["id"] in ids:
            sys.exit(f"{m['where']}: mutant id {m['id']} given twice")
        ids.add(m["id"])
        if not m["find"]:
            sys.exit(f"{m['where']}: {m['id']} has no '- ' line")
    return mutants

def pattern(lines):
    # Runs of blanks (line breaks included) match any run of blanks.
    text = "\n".join(l.strip() for l in lines)
    parts = re.split(r"\s+", text)
    return re.compile(r"\s+".join(re.escape(p) for p in parts if p))

cmd = sys.argv[1]
if cmd == "list":
    # list SAMPLE ONLY LISTS... -> id, file, equivalent (0/1), one per line
    sample, only = sys.argv[2] == "1", set(filter(None, sys.argv[3].split(",")))
    for m in parse(sys.argv[4:]):
        if sample and not m["ci"]:
            continue
        if only and m["id"] not in only:
            continue
        print(m["id"], m["file"], 1 if m["equiv"] else 0)
elif cmd == "equiv":
    # equiv ID LISTS... -> the equivalence argument
    for m in parse(sys.argv[3:]):
        if m["id"] == sys.argv[2]:
            print(" ".join(m["equiv"]))
elif cmd == "apply":
    # apply ID SRC_ROOT LISTS... : exit 3 when the text is not found once
    mid, src = sys.argv[2], sys.argv[3]
    m = next(m for m in parse(sys.argv[4:]) if m["id"] == mid)
    path = os.path.join(src, m["file"])
    text = open(path).read()
    found = list(pattern(m["find"]).finditer(text))
    if len(found) != 1:
        print(f"{m['where']}: {mid}: the text to mutate occurs {len(found)} "
              f"times in {m['file']} (must be once)", file=sys.stderr)
        sys.exit(3)
    f = found[0]
    line_start = text.rfind("\n", 0, f.start()) + 1
    indent = re.match(r"[ \t]*", text[line_start:]).group(0)
    repl = ("\n" + indent).join(l.strip() for l in m["repl"])
    open(path, "w").write(text[:f.start()] + repl + text[f.end():])
PY
}

mapfile -t selected < <(mutant_tool list "$sample" "$only" "${lists[@]}")
if [ ${#selected[@]} -eq 0 ]; then
  echo "mutation.sh: no mutant selected" >&2
  exit 2
fi

# The tree to mutate: a copy of the working tree (tar keeps modification
# times, so unchanged files are not rebuilt from one run to the next). A
# file that a run mutated may have its object built last from a mutant,
# newer than the original the copy brings back with its old modification
# time: `stale` lists those files, touched after the copy to be rebuilt.
rm -rf "$src"
mkdir -p "$src"
tar -C "$root" --exclude=./.git --exclude='./build*' -cf - . | tar -C "$src" -xf -
if [ -f "$work/stale" ]; then
  sort -u "$work/stale" | while read -r f; do
    [ ! -f "$src/$f" ] || touch "$src/$f"
  done
  rm -f "$work/stale"
fi

# The sample's tests: those that kill its mutants, cheapest first (every
# test executable is one more thing to compile on a fresh CI build).
sample_tests="packet_bytes_test router_test conformance_test
  announcement_schedule_test tracker_test sync_group_test config_loader_test
  metrics_body_test speaker_collector_test tracker_metrics_test
  web_config_test http_server_test"
if [ -z "$tests" ] && [ $sample -eq 1 ]; then
  tests=${sample_tests//$'\n'/ }
fi
if [ -z "$tests" ]; then
  tests=$(sed -n 's/^vrrp_unit_test(\([a-z0-9_]*\) .*/\1/p' "$src/test/CMakeLists.txt" |
    tr '\n' ' ')
  # pi_mutex_test checks scheduling priorities, which a niced run changes,
  # and covers no mutated code.
  for f in "$src"/test/exporter/*_test.cc; do
    [ "$(basename "$f")" = pi_mutex_test.cc ] || tests+=" $(basename "$f" .cc)"
  done
fi
read -r -a test_list <<<"$tests"

# No debug information: it is most of the link time, and nothing reads it.
cmake -S "$src" -B "$obj" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -DNDEBUG" -DVRRP_BUILD_BENCH=OFF \
  >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log" >&2; exit 2; }

build() { cmake --build "$obj" -j "$jobs" --target "${test_list[@]}" >"$work/build.log" 2>&1; }

# Runs the tests until one fails; prints the one that failed ("timeout" when
# the deadline passed), nothing when all passed.
run_tests() {
  local deadline=$(($(date +%s) + timeout_s)) t left rc
  for t in "${test_list[@]}"; do
    left=$((deadline - $(date +%s)))
    if [ "$left" -le 0 ]; then echo "timeout"; return; fi
    set +e
    timeout -k 5 "$left" "$obj/test/$t" --gtest_brief=1 >"$work/test.log" 2>&1
    rc=$?
    set -e
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then echo "timeout ($t)"; return; fi
    if [ $rc -ne 0 ]; then
      # The executable and the first failing test in it.
      local first
      first=$(sed -n 's/^\[  FAILED  \] \([^ ,]*\).*/\1/p' "$work/test.log" | head -1)
      echo "$t${first:+ ($first)}"
      return
    fi
  done
}

echo "mutation: ${#selected[@]} mutant(s), tests: ${test_list[*]}"
start=$(date +%s)
if ! build; then
  cat "$work/build.log" >&2
  echo "mutation.sh: the unmutated tree does not build" >&2
  exit 2
fi
baseline=$(run_tests)
if [ -n "$baseline" ]; then
  cat "$work/test.log" >&2
  echo "mutation.sh: $baseline fails without any mutant" >&2
  exit 2
fi

# Puts back the original of the file being mutated (in the copy; a new
# modification time, so the next build recompiles it).
mutated=""
restore() {
  if [ -n "$mutated" ]; then
    cp "$root/$mutated" "$src/$mutated"
    mutated=""
  fi
}
trap restore EXIT

results=()  # "id file status detail"
for entry in "${selected[@]}"; do
  read -r id file equiv <<<"$entry"
  t0=$(date +%s)
  echo "$file" >>"$work/stale"
  mutated=$file
  if ! mutant_tool apply "$id" "$src" "${lists[@]}" 2>"$work/apply.log"; then
    status=broken
    detail="not applied: $(tr '\n' ' ' <"$work/apply.log")"
  elif ! build; then
    status=broken
    detail="does not build (see $work/build-$id.log)"
    cp "$work/build.log" "$work/build-$id.log"
  else
    killer=$(run_tests)
    if [ -n "$killer" ]; then
      status=killed
      detail="by $killer"
      [ "$equiv" = 0 ] || detail+="; listed as equivalent: review the list"
    elif [ "$equiv" = 1 ]; then
      status=equivalent
      detail=$(mutant_tool equiv "$id" "${lists[@]}")
    else
      status=SURVIVED
      detail="no test failed"
    fi
  fi
  restore
  results+=("$id"$'\t'"$file"$'\t'"$status"$'\t'"$detail")
  printf '%-48s %-10s %3ss  %s\n' "$id" "$status" $(($(date +%s) - t0)) "$detail"
done
elapsed=$(($(date +%s) - start))

# The report: a score per file, then every mutant.
{
  echo "# Mutation report"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')," \
       "${#selected[@]} mutants from ${lists[*]##*/}, ${elapsed}s."
  echo "Score = killed / (mutants - equivalent); a mutant that does not"
  echo "apply or build is counted as broken and fails the run."
  echo
  echo "| file | mutants | killed | survived | equivalent | broken | score |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${results[@]}" | awk -F'\t' -v min="$min_score" '
    { n[$2]++; s[$2, $3]++; if (!($2 in seen)) { seen[$2] = 1; order[++k] = $2 } }
    END {
      for (i = 1; i <= k; i++) {
        f = order[i]
        killed = s[f, "killed"] + 0; surv = s[f, "SURVIVED"] + 0
        eq = s[f, "equivalent"] + 0; br = s[f, "broken"] + 0
        scored = n[f] - eq
        score = scored > 0 ? sprintf("%.0f %%", 100 * killed / scored) : "-"
        printf "| %s | %d | %d | %d | %d | %d | %s |\n", f, n[f], killed, surv, eq, br, score
        tk += killed; ts += surv; te += eq; tb += br; tn += n[f]
      }
      printf "| **total** | %d | %d | %d | %d | %d | %s |\n", tn, tk, ts, te, tb, \
        (tn - te > 0 ? sprintf("%.0f %%", 100 * tk / (tn - te)) : "-")
    }'
  echo
  echo "| mutant | file | result | detail |"
  echo "| --- | --- | --- | --- |"
  printf '%s\n' "${results[@]}" | awk -F'\t' '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }'
} >"$report"
echo
sed -n '/^| file/,/^$/p' "$report"
echo "report: $report"

read -r k s e b < <(printf '%s\n' "${results[@]}" | awk -F'\t' '
  { c[$3]++ } END { print c["killed"]+0, c["SURVIVED"]+0, c["equivalent"]+0, c["broken"]+0 }')
below=$(printf '%s\n' "${results[@]}" | awk -F'\t' -v min="$min_score" '
  { n[$2]++; if ($3 == "killed") kd[$2]++; if ($3 == "equivalent") eq[$2]++ }
  END { for (f in n) { d = n[f] - eq[f]; if (d > 0 && 100 * kd[f] < min * d) print f } }')
rc=0
if [ -n "$below" ]; then
  echo "below ${min_score} %: ${below//$'\n'/ }"
  rc=1
fi
[ "$b" -eq 0 ] || rc=1
echo "mutation: $k killed, $s survived, $e equivalent, $b broken"
exit $rc
