// Deferred teardown of probe attachments (deferred_teardown.cc says why). On a thread with
// tl_defer_teardown set, DeferTeardown() moves the fds (in close order) to a pending list instead of
// letting them close; ReleaseDeferred() hands the list to a short-lived grandchild process that closes them
// and exits, closes this process's copies, and returns the forked child's pid (0 when nothing was pending
// or the hand-over failed: *err says why, and the fds were then closed here). *count: how many fds there were.
#pragma once

#include <initializer_list>

#include "core/fd.h"

namespace ebp {

extern thread_local bool tl_defer_teardown;
void DeferTeardown(std::initializer_list<Fd*> fds);
int ReleaseDeferred(int* count, int* err);

}  // namespace ebp
