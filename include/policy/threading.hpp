// Umbrella header of the threading axis.
#pragma once
#include "threading/concept.hpp"
#include "threading/single_thread.hpp"
