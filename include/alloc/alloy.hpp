// Everything a user needs: the allocator, its adaptors, and every policy.
#pragma once
#include "../policy/all.hpp"
#include "allocator.hpp"
#include "pmr_resource.hpp"
#include "stl_allocator.hpp"
