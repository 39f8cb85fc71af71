#include "tnfast/parallel.hpp"

#include "tnfast/cancel.hpp"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#ifdef TNFAST_HAVE_OPENMP
#include <omp.h>
#endif

namespace tnfast {
namespace parallel {

void for_each_task(Index ntasks, int threads, const std::function<void(Index, int)>& fn) {
  if (ntasks <= 0) return;
  threads = int(std::max<Index>(1, std::min<Index>(threads, ntasks)));
  std::atomic<Index> next{0};
  cancel::Context* ctx = cancel::current();
  auto worker = [&](int t) {
    cancel::Adopt adopt(ctx);  // a no-op on the caller's thread
    for (Index i = next++; i < ntasks; i = next++) {
      if (cancel::requested()) break;
      fn(i, t);
    }
  };
  if (threads == 1) {
    worker(0);
    cancel::check();
    return;
  }
#ifdef TNFAST_HAVE_OPENMP
#pragma omp parallel num_threads(threads)
  worker(omp_get_thread_num());
#else
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) {
    try {
      pool.emplace_back(worker, t);
    } catch (...) {
      break;  // the tasks are taken by the threads that did start
    }
  }
  worker(0);
  for (auto& th : pool) th.join();
#endif
  cancel::check();
}

}  // namespace parallel
}  // namespace tnfast
