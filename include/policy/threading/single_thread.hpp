// single_thread: no synchronisation at all, and no cost. Using one instance from two threads
// at once is undefined behaviour (as with any unsynchronised container): pick locked<> or
// thread_local_cache for that.
#pragma once
#include <string>

#include "concept.hpp"

namespace alloy::policy {

struct single_thread {
  using axis = alloy::axis::threading;
  template <class Inner>
  using layer = Inner;
  static std::string name() { return "single_thread"; }
};

}  // namespace alloy::policy
