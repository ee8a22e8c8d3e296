// Every policy of every axis. `namespace P = alloy::policy;` and compose.
#pragma once
#include "alignment.hpp"
#include "checks.hpp"
#include "faults.hpp"
#include "hardening.hpp"
#include "reclaim.hpp"
#include "search.hpp"
#include "size_classes.hpp"
#include "source.hpp"
#include "stats.hpp"
#include "threading.hpp"
