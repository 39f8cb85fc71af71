// Cooperative cancellation of long computations.
//
// A caller that wants its work to be stoppable opens a Scope on its thread with a poll function
// (the Python bindings pass one that checks for a pending Ctrl-C).  Long loops of the core call
// requested() (cheap: a thread-local read and, on the caller's thread, a clock read) between
// units of work; on the caller's thread it runs the poll function at most every 20 ms.  Once the
// poll says stop, every thread of the computation sees requested() == true; the caller's thread
// then leaves through check(), which throws `cancelled`.  Without a Scope nothing is ever
// requested, so the core behaves as before (the C++ benchmark program, for instance).
#pragma once

#include <atomic>
#include <chrono>
#include <exception>
#include <thread>

namespace tnfast {
namespace cancel {

struct cancelled : std::exception {
  const char* what() const noexcept override { return "computation interrupted"; }
};

// Returns true when the computation should stop (called on the scope's thread only).
using PollFn = bool (*)();

struct Context {
  std::atomic<bool> stop{false};
  PollFn poll = nullptr;
  std::thread::id owner;
  std::chrono::steady_clock::time_point last;
};

// The context of the calling thread (null outside any Scope).
Context* current() noexcept;

// Makes `poll` the stop condition of work done on this thread until destruction.  An inner
// Scope on a thread that already has one keeps the outer one.
class Scope {
 public:
  explicit Scope(PollFn poll) noexcept;
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  Context ctx_;
  Context* prev_ = nullptr;
  bool active_ = false;
};

// A worker thread joins the computation of `ctx` (may be null) until destruction.
class Adopt {
 public:
  explicit Adopt(Context* ctx) noexcept;
  ~Adopt();
  Adopt(const Adopt&) = delete;
  Adopt& operator=(const Adopt&) = delete;

 private:
  Context* prev_;
};

// True once the computation of this thread should stop.
bool requested() noexcept;

// Throws `cancelled` when requested().
void check();

}  // namespace cancel
}  // namespace tnfast
