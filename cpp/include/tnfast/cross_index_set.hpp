// The pivot sets of cross interpolation: multi-indices of one length (prefixes I_b or suffixes
// J_b of the full index), kept in insertion order without repeats.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "tnfast/common.hpp"

namespace tnfast {
namespace cross {

class MultiIndexSet {
 public:
  explicit MultiIndexSet(Index len = 0) : len_(len) {}

  Index len() const { return len_; }
  // Number of multi-indices (a set of length 0 holds at most one: the empty multi-index).
  Index size() const { return size_; }
  // The a-th multi-index added (len() entries).
  const int64_t* at(Index a) const { return data_.data() + a * len_; }
  // All of them, row-major size() x len().
  const std::vector<int64_t>& data() const { return data_; }

  // Position of v (len() entries), or -1.
  Index find(const int64_t* v) const {
    auto it = pos_.find(key(v));
    return it == pos_.end() ? -1 : it->second;
  }
  // Adds v (len() entries) unless present; true when added.
  bool add(const int64_t* v) {
    std::string k = key(v);
    if (pos_.count(k)) return false;
    pos_.emplace(std::move(k), size_);
    data_.insert(data_.end(), v, v + len_);
    ++size_;
    return true;
  }
  void clear() {
    data_.clear();
    pos_.clear();
    size_ = 0;
  }

 private:
  std::string key(const int64_t* v) const {
    return std::string(reinterpret_cast<const char*>(v), size_t(len_) * sizeof(int64_t));
  }

  Index len_ = 0;
  Index size_ = 0;
  std::vector<int64_t> data_;
  std::unordered_map<std::string, Index> pos_;
};

}  // namespace cross
}  // namespace tnfast
