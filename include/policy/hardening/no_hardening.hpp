// no_hardening: free-list links stored as plain pointers, no mitigation. Zero bytes, zero instructions.
#pragma once
#include <cstddef>
#include <string>

#include "../detail/config.hpp"
#include "concept.hpp"

namespace alloy::policy {

struct no_hardening {
  using axis = alloy::axis::hardening;
  static constexpr bool encodes_links = false;
  static constexpr bool guards_pages = false;
  static constexpr bool randomizes_placement = false;
  static constexpr bool checks_double_free = false;
  static constexpr bool scans_double_free = false;
  struct link_codec {
    ALLOY_FAST_PATH void* encode(void* next, void*) const noexcept { return next; }
    ALLOY_FAST_PATH void* decode(void* stored, void*) const noexcept { return stored; }
    ALLOY_FAST_PATH void admit(void*, std::size_t) noexcept {}
  };
  static std::string name() { return "no_hardening"; }
};

}  // namespace alloy::policy
