// Umbrella header of the threading axis.
#pragma once
#include "threading/concept.hpp"
#include "threading/locked.hpp"
#include "threading/per_cpu_cache.hpp"
#include "threading/single_thread.hpp"
#include "threading/spin_mutex.hpp"
#include "threading/thread_local_cache.hpp"
