// Umbrella header of the search axis.
#pragma once
#include "search/best_fit.hpp"
#include "search/buddy.hpp"
#include "search/concept.hpp"
#include "search/first_fit.hpp"
#include "search/next_fit.hpp"
#include "search/segregated_fit.hpp"
#include "search/tlsf.hpp"
