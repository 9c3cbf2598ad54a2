#!/bin/sh
# Performance CI for any CI system (plain POSIX shell, run as root from the checkout of the code measured):
#   1. doctor: the kernel can run the suite
#   2. the quick micro suite: one result file
#   3. the gate (only with PERF_AB_OTHER: a paired A/B run against another build, exit 1 on a regression)
#   4. history push: the result into the results branch (pushed to PERF_REMOTE when set, retried when rejected)
#   5. the issue text: the gate's regressions when it failed, else the newest run against the branch's earlier
#      runs of this machine; a regression writes $PERF_OUT/issue.md, and with the GitHub CLI (gh) present it
#      opens or updates the issue
# Settings (environment):
#   EBPFPERF        the ebpfperf command (default: ebpfperf)
#   PERF_OUT        folder for results, the doctor report and issue.md (default: perf-out)
#   PERF_SUITE      suite flags (default: --quick)
#   PERF_REMOTE     remote to push the results branch to (default: none, the local branch only)
#   PERF_BRANCH     the results branch (default: perf-results)
#   PERF_MACHINE    the machine folder in the branch; name runners stably (default: hostname)
#   PERF_AB_OTHER   another build's object folder for the paired A/B gate (default: none, no gate)
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
  step "gate: paired A/B against $PERF_AB_OTHER"
  # shellcheck disable=SC2086
  $EBPFPERF suite micro $SUITE --ab "$PERF_AB_OTHER" --out "$OUT/ab" --no-progress || gate=$?
fi

step "history push ($BRANCH${PERF_REMOTE:+ to $PERF_REMOTE}, machine $MACHINE)"
# with a remote, push adds the run on top of the remote's branch (created on the first run) and updates the local one
# shellcheck disable=SC2086
$EBPFPERF history push "$OUT/results" --branch "$BRANCH" --machine "$MACHINE" $REMOTE_FLAG

rm -f "$OUT/issue.md" "$OUT/issue.txt"
folder() { printf '%s' "$1" | sed 's/[^A-Za-z0-9._+-]/_/g; s/^[.-][.-]*/_/'; } # as history push names folders
if [ "$gate" -ne 0 ] && [ -d "$OUT/ab" ]; then
  # the gate failed: its paired A/B comparison is the regression to report (compare exits 1 on it)
  step "issue text: the A/B gate's regressions"
  $EBPFPERF compare "$OUT/ab" --format issue >"$OUT/issue.txt" 2>"$OUT/compare.err" || cat "$OUT/compare.err" >&2
else
  step "issue text: the newest run against the earlier runs on $MACHINE"
  group="micro/$(folder "$MACHINE")/$(folder "$(uname -r)")"
  # e.g. the first run: no earlier run to compare with yet
  $EBPFPERF compare --history "git:$BRANCH:$group" --format issue >"$OUT/issue.txt" 2>"$OUT/compare.err" || cat "$OUT/compare.err" >&2
fi
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
