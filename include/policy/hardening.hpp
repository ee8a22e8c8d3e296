// Umbrella header of the hardening axis.
#pragma once
#include "hardening/concept.hpp"
#include "hardening/hardened.hpp"
#include "hardening/no_hardening.hpp"
