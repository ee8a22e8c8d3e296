// no_hardening: free-list links stored as plain pointers. Zero bytes, zero instructions.
#pragma once
#include <string>

#include "../detail/config.hpp"
#include "concept.hpp"

namespace alloy::policy {

struct no_hardening {
  using axis = alloy::axis::hardening;
  struct link_codec {
    ALLOY_FAST_PATH void* encode(void* next, void*) const noexcept { return next; }
    ALLOY_FAST_PATH void* decode(void* stored, void*) const noexcept { return stored; }
  };
  static std::string name() { return "no_hardening"; }
};

}  // namespace alloy::policy
