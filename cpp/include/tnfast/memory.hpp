// Sizes that cannot fit: checked before allocating, with a message naming what is too large.
#pragma once

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace tnfast {

// Raised when a computation would need more memory than the machine has; the bindings turn it
// into a Python MemoryError carrying the message.
struct too_large : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Memory an allocation may count on, in bytes: MemAvailable on Linux, else the physical memory,
// lowered to the headroom under a cgroup v2 memory limit or an address-space limit (ulimit -v)
// (a large default when neither can be read).
double physical_memory_bytes();

// Throws too_large("<what> would need X GiB, more than the Y GiB of memory available ...<hint>")
// when bytes exceed the physical memory.
void require_memory(double bytes, const std::string& what, const std::string& hint = "");

// ---- scratch memory --------------------------------------------------------------------------
//
// Working memory of the kernels (maxvol, batched evaluation, MPO sweeps, the MPS classifier) comes
// from one process-wide pool.  A fresh multi-megabyte buffer costs a page fault per 4 KiB on first
// touch, a sizeable part of a small call; blocks returned to the pool are handed to the next call
// instead.  Blocks are 64-byte aligned; those of 2 MiB or more are 2 MiB aligned and, on Linux,
// advised to use transparent huge pages.  The pool keeps a few blocks (the largest, up to a size
// limit) and is safe to use from any thread.
namespace scratch {

struct Block {
  void* p = nullptr;
  std::size_t bytes = 0;
};

// A block of at least `bytes` bytes (uninitialized): a kept one when one fits, else a new one.
Block take(std::size_t bytes);

// Returns a block to the pool (freed when the pool keeps larger ones).
void give(Block b);

// Blocks the pool holds now (for tests).
std::size_t kept_blocks();

}  // namespace scratch

// `count` uninitialized values of T from the scratch pool, returned to it on destruction.
template <class T>
class Scratch {
 public:
  Scratch() = default;
  explicit Scratch(std::size_t count) : b_(scratch::take(std::max<std::size_t>(count, 1) * sizeof(T))) {}
  ~Scratch() {
    if (b_.p) scratch::give(b_);
  }
  Scratch(Scratch&& o) noexcept : b_(o.b_) { o.b_ = scratch::Block(); }
  Scratch& operator=(Scratch&& o) noexcept {
    if (this != &o) {
      if (b_.p) scratch::give(b_);
      b_ = o.b_;
      o.b_ = scratch::Block();
    }
    return *this;
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  T* data() const { return static_cast<T*>(b_.p); }

 private:
  scratch::Block b_;
};

// `count` blocks of `elems` values of T each (one per thread, say), from the scratch pool;
// zero-filled when `zero` is true.
template <class T>
class ScratchSet {
 public:
  ScratchSet(std::size_t count, std::size_t elems, bool zero = false) {
    blocks_.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      blocks_.emplace_back(elems);
      if (zero) std::fill(blocks_.back().data(), blocks_.back().data() + elems, T(0));
    }
  }
  T* operator[](std::size_t i) { return blocks_[i].data(); }

 private:
  std::vector<Scratch<T>> blocks_;
};

}  // namespace tnfast
