// The axes a policy can sit on, the vocabulary every policy header shares, and
// `axis_info`, which each axis's concept header specialises (name, default, concept).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace alloy {

/// One tag per axis. A policy says which axis it sits on with `using axis = alloy::axis::X;`.
namespace axis {
struct source {};        ///< where chunks of memory come from
struct size_classes {};  ///< how request sizes map onto block sizes
struct search {};        ///< how a free block is found for a request (the heap itself)
struct alignment {};     ///< the minimum alignment of every block
struct stats {};         ///< instrumentation
struct checks {};        ///< detection of user errors (double free, overflow, ...)
struct faults {};        ///< allocations made to fail on purpose, for testing their callers
struct hardening {};     ///< defences against heap exploitation
struct threading {};     ///< how the allocator may be shared between threads
}  // namespace axis

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

/// Anything that names its axis is a policy; whether it is a *good* one is each axis's concept.
template <class P>
concept any_policy = requires { typename P::axis; };

/// Specialised once per axis (in `policy/<axis>/concept.hpp`) with:
///   `static constexpr std::string_view name;`  the axis as users read it,
///   `using default_policy = ...;`             what a composition gets when it names none,
///   `template <class P> static constexpr bool satisfied;`  the axis concept.
template <class Axis>
struct axis_info;

}  // namespace alloy
