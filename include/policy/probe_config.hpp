// The configuration concepts probe a heap with: a search policy's heap is checked over it
// (search/concept.hpp), and the wrapping axes probe their layers over the default heap built
// from it (wrapping_policy.hpp). It names real policies, so it lives at the policy level, not
// in policy/detail, which includes nothing above it.
#pragma once
#include "detail/heap_layer.hpp"
#include "hardening/no_hardening.hpp"
#include "size_classes/pow2_classes.hpp"
#include "source/system_pages.hpp"

namespace alloy::detail {

using probe_config = heap_config<policy::system_pages, policy::pow2_classes<16, 256>, 16, policy::no_hardening>;

}  // namespace alloy::detail
