// The preload library's composition (tools/malloc/default_heap.hpp) with P::no_reclaim: what
// reclaiming costs a whole program is the difference between liballoy_malloc.so and this
// library, preloaded into the same program (docs/policies/reclaim.md).
#pragma once
#include <boost/mp11/algorithm.hpp>
#include <type_traits>

#include "../../tools/malloc/default_heap.hpp"

namespace alloy_bench {
namespace mp = boost::mp11;
using preload_policies = alloy::malloc_heap::policies;
/// Where the reclaim policy sits in a composition's policies (alloy::composition's order).
inline constexpr std::size_t reclaim_position = 5;
static_assert(std::is_same_v<typename mp::mp_at_c<preload_policies, reclaim_position>::axis, alloy::axis::reclaim>);
/// malloc_heap's own policies, the reclaim axis's aside: derived, so the two cannot drift apart.
using no_reclaim_malloc_heap = alloy::basic_allocator<
    mp::mp_apply<alloy::composition, mp::mp_replace_at_c<preload_policies, reclaim_position, alloy::policy::no_reclaim>>>;
static_assert(!std::is_same_v<no_reclaim_malloc_heap, alloy::malloc_heap>);
}  // namespace alloy_bench
