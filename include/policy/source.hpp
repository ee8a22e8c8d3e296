// Umbrella header of the memory-source axis.
#pragma once
#include "source/concept.hpp"
#include "source/static_arena.hpp"
#include "source/system_malloc.hpp"
#include "source/system_pages.hpp"
