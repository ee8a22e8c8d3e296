// Umbrella header of the checking axis.
#pragma once
#include "checks/checked.hpp"
#include "checks/concept.hpp"
#include "checks/no_checks.hpp"
#include "checks/report.hpp"
