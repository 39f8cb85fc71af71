// Running independent tasks on a few threads.
#pragma once

#include <functional>

#include "tnfast/common.hpp"

namespace tnfast {
namespace parallel {

// Run fn(task, thread) for every task in [0, ntasks) on at most `threads` threads (thread ids
// 0..threads-1; the caller is thread 0).  Tasks are handed out one at a time, so a thread slowed
// down by other work takes fewer.  When the core is built with OpenMP the threads are an OpenMP
// team, which reuses the runtime's workers: in a process running PyTorch (libgomp) the work then
// shares PyTorch's threads instead of competing with them while they spin.  fn must not throw.
// No task starts once a stop is requested (tnfast/cancel.hpp); the call then throws
// cancel::cancelled after every thread has finished its current task.
void for_each_task(Index ntasks, int threads, const std::function<void(Index, int)>& fn);

}  // namespace parallel
}  // namespace tnfast
