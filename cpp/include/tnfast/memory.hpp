// Sizes that cannot fit: checked before allocating, with a message naming what is too large.
#pragma once

#include <stdexcept>
#include <string>

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

}  // namespace tnfast
