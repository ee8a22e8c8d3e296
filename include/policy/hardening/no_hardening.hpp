// no_hardening: free-list links stored as plain pointers, no mitigation. Zero bytes, zero instructions.
#pragma once
#include <cstddef>
#include <string>

#include "../detail/config.hpp"
#include "../detail/free_list.hpp"
#include "concept.hpp"

namespace alloy::policy {

struct no_hardening {
  using axis = alloy::axis::hardening;
  static constexpr bool encodes_links = false;
  static constexpr bool guards_pages = false;
  static constexpr bool randomizes_placement = false;
  static constexpr bool checks_double_free = false;
  static constexpr bool scans_double_free = false;
  using link_codec = detail::plain_links;
  static std::string name() { return "no_hardening"; }
};

}  // namespace alloy::policy
