// Umbrella header of the search axis.
#pragma once
#include "search/concept.hpp"
#include "search/segregated_fit.hpp"
