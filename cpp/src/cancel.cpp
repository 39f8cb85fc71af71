#include "tnfast/cancel.hpp"

namespace tnfast {
namespace cancel {
namespace {
thread_local Context* tl_ctx = nullptr;
constexpr auto kPollInterval = std::chrono::milliseconds(20);
}  // namespace

Context* current() noexcept { return tl_ctx; }

Scope::Scope(PollFn poll) noexcept {
  if (tl_ctx) return;  // the outer scope decides
  ctx_.poll = poll;
  ctx_.owner = std::this_thread::get_id();
  ctx_.last = std::chrono::steady_clock::now();
  prev_ = tl_ctx;
  tl_ctx = &ctx_;
  active_ = true;
}

Scope::~Scope() {
  if (active_) tl_ctx = prev_;
}

Adopt::Adopt(Context* ctx) noexcept : prev_(tl_ctx) { tl_ctx = ctx; }

Adopt::~Adopt() { tl_ctx = prev_; }

bool requested() noexcept {
  Context* c = tl_ctx;
  if (!c) return false;
  if (c->stop.load(std::memory_order_relaxed)) return true;
  if (c->poll && std::this_thread::get_id() == c->owner) {
    const auto now = std::chrono::steady_clock::now();
    if (now - c->last >= kPollInterval) {
      c->last = now;
      bool stop = false;
      try {
        stop = c->poll();
      } catch (...) {
        stop = true;
      }
      if (stop) {
        c->stop.store(true, std::memory_order_relaxed);
        return true;
      }
    }
  }
  return false;
}

void check() {
  if (requested()) throw cancelled();
}

}  // namespace cancel
}  // namespace tnfast
