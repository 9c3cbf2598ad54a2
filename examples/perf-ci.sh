#!/bin/sh
# Performance CI for any CI system (plain POSIX shell, run as root from the checkout of the code measured):
#   1. doctor: the kernel can run the suite
#   2. the quick micro suite: one result file
#   3. the gate (only with PERF_AB_OTHER: a paired A/B run, the base's build as A and this checkout's as B,
#      exit 1 on a regression)
#   4. history push: the results (and the A/B result, filed under this commit and naming the base's) into
#      the results branch (pushed to PERF_REMOTE when set, retried when rejected)
#   5. the issue text from compare --history on this machine's runs in the branch: a newest A/B run is
#      gated by its pairs, a plain one reported against the earlier runs; a regression writes
#      $PERF_OUT/issue.md, and with the GitHub CLI (gh) present it opens or updates the issue
# Settings (environment):
#   EBPFPERF        the ebpfperf command (default: ebpfperf)
#   PERF_OUT        folder for results, the doctor report and issue.md (default: perf-out)
#   PERF_SUITE      suite flags (default: --quick)
#   PERF_REMOTE     remote to push the results branch to (default: none, the local branch only)
#   PERF_BRANCH     the results branch (default: perf-results)
#   PERF_MACHINE    the machine folder in the branch; name runners stably (default: hostname)
#   PERF_AB_OTHER   the base's build (e.g. the previous commit's object folder) for the paired A/B gate
#                   (default: none, no gate)
#   PERF_AB_COMMIT  the commit PERF_AB_OTHER was built from, recorded in the A/B result (default: not recorded)
#   PERF_ISSUE_LABEL the label of regression issues (default: performance-regression)
set -eu

EBPFPERF=${EBPFPERF:-ebpfperf}
OUT=${PERF_OUT:-perf-out}
SUITE=${PERF_SUITE:---quick}
BRANCH=${PERF_BRANCH:-perf-results}
MACHINE=${PERF_MACHINE:-$(hostname)}
LABEL=${PERF_ISSUE_LABEL:-performance-regression}
REMOTE_FLAG=${PERF_REMOTE:+--remote $PERF_REMOTE}
step() { printf '\n== %s\n' "$*" >&2; }

mkdir -p "$OUT/results"
step "doctor (the micro suite's requirements)"
$EBPFPERF doctor --profile micro --json >"$OUT/doctor.json"

step "suite micro $SUITE"
# shellcheck disable=SC2086 # PERF_SUITE is a list of flags
$EBPFPERF suite micro $SUITE --out "$OUT/results" --no-progress

gate=0
if [ -n "${PERF_AB_OTHER:-}" ]; then
  step "gate: paired A/B, $PERF_AB_OTHER (base, A) against this checkout (candidate, B)"
  # shellcheck disable=SC2086
  $EBPFPERF suite micro $SUITE --ab-base "$PERF_AB_OTHER" ${PERF_AB_COMMIT:+--ab-commit "$PERF_AB_COMMIT"} --out "$OUT/ab" --no-progress || gate=$?
fi

step "history push ($BRANCH${PERF_REMOTE:+ to $PERF_REMOTE}, machine $MACHINE)"
# with a remote, push adds the runs on top of the remote's branch (created on the first run) and updates the local one;
# the A/B result, measured last, is the newest run of the group, so compare --history below gates it
AB_RESULT=
if ls "$OUT"/ab/*.json >/dev/null 2>&1; then AB_RESULT="$OUT/ab"; fi
# shellcheck disable=SC2086
$EBPFPERF history push "$OUT/results" $AB_RESULT --branch "$BRANCH" --machine "$MACHINE" $REMOTE_FLAG

rm -f "$OUT/issue.md" "$OUT/issue.txt"
folder() { printf '%s' "$1" | sed 's/[^A-Za-z0-9._+-]/_/g; s/^[.-][.-]*/_/'; } # as history push names folders
step "issue text: compare --history on $MACHINE's runs"
group="micro/$(folder "$MACHINE")/$(folder "$(uname -r)")"
# exit 1 (a gated A/B regression) is the gate's, already in $gate; exit 2 e.g. on the first run: no earlier run yet
$EBPFPERF compare --history "git:$BRANCH:$group" --format issue >"$OUT/issue.txt" 2>"$OUT/compare.err" || cat "$OUT/compare.err" >&2
if [ -s "$OUT/issue.txt" ]; then mv "$OUT/issue.txt" "$OUT/issue.md"; else rm -f "$OUT/issue.txt"; fi

if [ -f "$OUT/issue.md" ]; then
  title=$(head -n 1 "$OUT/issue.md")
  tail -n +3 "$OUT/issue.md" >"$OUT/issue-body.md"
  echo "regression: $title (text in $OUT/issue.md)" >&2
  if command -v gh >/dev/null 2>&1; then
    # the first case's hidden marker finds the open issue of the same regression: comment there, else open one
    marker=$(grep -m 1 -o 'ebpfperf:case=[^>]*[^ >-]' "$OUT/issue-body.md")
    gh label create "$LABEL" --color D93F0B --description 'ebpfperf found a significant slowdown' >/dev/null 2>&1 || true
    number=$(gh issue list --state open --label "$LABEL" --search "\"$marker\" in:body" --json number --jq '.[0].number // empty')
    if [ -n "$number" ]; then
      gh issue comment "$number" --body-file "$OUT/issue-body.md"
    else
      gh issue create --title "$title" --label "$LABEL" --body-file "$OUT/issue-body.md"
    fi
  else
    echo "gh not installed: open the issue from $OUT/issue.md by hand" >&2
  fi
else
  echo "no regression against the history" >&2
fi
exit "$gate"
