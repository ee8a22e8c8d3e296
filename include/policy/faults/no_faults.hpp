// no_faults: every allocation is attempted for real. The identity layer: zero bytes, zero instructions.
#pragma once
#include <string>

#include "concept.hpp"

namespace alloy::policy {

struct no_faults {
  using axis = alloy::axis::faults;
  template <class Inner>
  using layer = Inner;
  static std::string name() { return "no_faults"; }
};

}  // namespace alloy::policy
