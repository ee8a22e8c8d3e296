// Umbrella header of the checking axis.
#pragma once
#include "checks/concept.hpp"
#include "checks/no_checks.hpp"
