// Umbrella header of the size-class axis, with the laws proven for the maps shipped as examples
// and defaults (compile time, namespace scope: a broken map cannot be built).
#pragma once
#include "size_classes/concept.hpp"
#include "size_classes/geometric_classes.hpp"
#include "size_classes/linear_classes.hpp"
#include "size_classes/pow2_classes.hpp"

namespace alloy::detail {
static_assert(size_class_laws<policy::pow2_classes<8, 256>>());
static_assert(size_class_laws<policy::pow2_classes<16, 4096>>());
static_assert(size_class_laws<policy::linear_classes<16, 1024>>());
static_assert(size_class_laws<policy::geometric_classes<16, 4096, 4>>());
static_assert(size_class_laws<policy::geometric_classes<16, 16384, 4>>());
static_assert(policy::geometric_classes<16, 4096, 4>::size_of(4) == 80);
}  // namespace alloy::detail
