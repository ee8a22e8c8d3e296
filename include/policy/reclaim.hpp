// Umbrella header of the reclaim axis.
#pragma once
#include "reclaim/concept.hpp"
#include "reclaim/no_reclaim.hpp"
#include "reclaim/reclaim.hpp"
