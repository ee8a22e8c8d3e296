// Umbrella header of the fault-injection axis.
#pragma once
#include "faults/concept.hpp"
#include "faults/fail_after.hpp"
#include "faults/no_faults.hpp"
