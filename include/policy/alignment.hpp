// Umbrella header of the alignment axis.
#pragma once
#include "alignment/align.hpp"
#include "alignment/concept.hpp"
