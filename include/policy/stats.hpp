// Umbrella header of the instrumentation axis.
#pragma once
#include "stats/concept.hpp"
#include "stats/no_stats.hpp"
#include "stats/stats.hpp"
