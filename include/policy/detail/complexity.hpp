// The worst-case cost of an operation: the one piece of the policies' vocabulary that the heaps
// in policy/detail/ publish themselves, so it lives here, below everything that names it.
#pragma once
#include <string_view>

namespace alloy {

/// Worst-case cost of an operation, published by search and threading policies.
enum class complexity { constant, logarithmic, linear };

constexpr std::string_view to_string(complexity c) noexcept {
  switch (c) {
    case complexity::constant: return "O(1)";
    case complexity::logarithmic: return "O(log n)";
    case complexity::linear: return "O(n)";
  }
  return "?";
}

}  // namespace alloy
