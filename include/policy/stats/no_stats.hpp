// no_stats: the identity layer. Not a byte, not an instruction.
#pragma once
#include <string>

#include "concept.hpp"

namespace alloy::policy {

struct no_stats {
  using axis = alloy::axis::stats;
  template <class Inner>
  using layer = Inner;
  static std::string name() { return "no_stats"; }
};

}  // namespace alloy::policy
