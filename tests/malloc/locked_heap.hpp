// A second declared type built into a malloc library by the tests, to show that
// alloy_add_malloc_library takes any thread-safe composition: one lock, power-of-two classes.
#pragma once
#include <alloc/allocator.hpp>
#include <policy/all.hpp>

namespace alloy_tests {
namespace P = alloy::policy;
using locked_malloc_heap = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 8192>, P::locked<alloy::spin_mutex>>;
}  // namespace alloy_tests
