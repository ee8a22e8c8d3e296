// no_checks: trust the caller. The identity layer: zero bytes, zero instructions.
#pragma once
#include <string>

#include "concept.hpp"

namespace alloy::policy {

struct no_checks {
  using axis = alloy::axis::checks;
  template <class Inner>
  using layer = Inner;
  static std::string name() { return "no_checks"; }
};

}  // namespace alloy::policy
