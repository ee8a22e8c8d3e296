# Counts instructions per allocate + free pair, composed versus hand-written, with callgrind.
#   cmake -DDRIVER=<zero_overhead_count> -DVALGRIND=<valgrind> [-DPAIRS=2000] [-DCHECK=ON]
#         [-DKNOWN_MISSES=design/pattern;...] [-DWORK_DIR=<dir>] -P instructions.cmake
# For every design (`DRIVER --list`) and side (composed, hand), runs the driver once under
# callgrind, collecting only the measured loops (--toggle-collect) and dumping after each one:
# PAIRS and 2 * PAIRS pairs of each pattern (fixed, varied). (count(2 * PAIRS) - count(PAIRS)) /
# PAIRS cancels setup, warm-up, the call and the loop entry: the exact cost of one pair, loop
# included.
# Instruction counts do not depend on the machine's load, so CHECK=ON (the CTest test) fails when
# a composed design executes more instructions than the same design written by hand. A miss
# already known and reported is listed in KNOWN_MISSES: it is printed as such, and the check
# fails as soon as it stops missing, so that the entry is removed once the cause is fixed.
cmake_minimum_required(VERSION 3.25)

if(NOT VALGRIND)
  message("instruction check skipped: valgrind not found (install it to compare instruction counts)")
  return()
endif()
if(NOT PAIRS)
  set(PAIRS 2000)
endif()
if(NOT WORK_DIR)
  set(WORK_DIR ${CMAKE_CURRENT_BINARY_DIR}/zero_overhead_callgrind)
endif()
file(MAKE_DIRECTORY ${WORK_DIR})

execute_process(COMMAND ${DRIVER} --list OUTPUT_VARIABLE designs RESULT_VARIABLE status OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${DRIVER} --list failed (${status})")
endif()
string(REPLACE "\n" ";" designs "${designs}")

# measure(design side): runs the driver once under callgrind; sets <side>_fixed and <side>_varied
# in the caller to the instructions of PAIRS pairs (the 2 * PAIRS dump minus the PAIRS dump).
function(measure design side)
  set(file ${WORK_DIR}/${design}.${side}.out)
  file(GLOB stale ${file}*)
  if(stale)
    file(REMOVE ${stale})
  endif()
  execute_process(COMMAND ${VALGRIND} --tool=callgrind "--toggle-collect=*pairs_*" "--dump-after=*pairs_fixed*"
                          "--dump-after=*pairs_varied*" --callgrind-out-file=${file} ${DRIVER} ${design} ${side} ${PAIRS}
                  RESULT_VARIABLE status OUTPUT_QUIET ERROR_VARIABLE log)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "callgrind run of ${design} ${side} failed (${status}):\n${log}")
  endif()
  foreach(dump 1 2 3 4)
    file(STRINGS ${file}.${dump} totals REGEX "^totals: [0-9]+")
    if(NOT totals)
      message(FATAL_ERROR "no totals line in ${file}.${dump}")
    endif()
    string(REGEX REPLACE "^totals: ([0-9]+).*" "\\1" count${dump} "${totals}")
  endforeach()
  math(EXPR fixed "${count2} - ${count1}")
  math(EXPR varied "${count4} - ${count3}")
  set(${side}_fixed ${fixed} PARENT_SCOPE)
  set(${side}_varied ${varied} PARENT_SCOPE)
endfunction()

# hundredths(<out-var> numerator denominator): numerator / denominator with two decimals.
function(hundredths out num den)
  math(EXPR scaled "(${num} * 100 + ${den} / 2) / ${den}")
  math(EXPR whole "${scaled} / 100")
  math(EXPR frac "${scaled} % 100")
  if(frac LESS 10)
    set(frac "0${frac}")
  endif()
  set(${out} "${whole}.${frac}" PARENT_SCOPE)
endfunction()

set(failures "")
message("instructions per allocate + free pair (callgrind, loop included; ${PAIRS} pairs):")
message("  design                   pattern  composed      hand   ratio")
foreach(design IN LISTS designs)
  measure(${design} composed)
  measure(${design} hand)
  foreach(pattern fixed varied)
    set(composed ${composed_${pattern}})
    set(hand ${hand_${pattern}})
    hundredths(composed_per_pair ${composed} ${PAIRS})
    hundredths(hand_per_pair ${hand} ${PAIRS})
    hundredths(ratio ${composed} ${hand})
    string(LENGTH "${design}" length)
    math(EXPR pad "24 - ${length}")
    string(REPEAT " " ${pad} spaces)
    set(row "${design}${spaces} ${pattern}")
    foreach(cell composed_per_pair hand_per_pair ratio)
      string(LENGTH "${${cell}}" length)
      math(EXPR pad "10 - ${length}")
      string(REPEAT " " ${pad} spaces)
      string(APPEND row "${spaces}${${cell}}")
    endforeach()
    if("${design}/${pattern}" IN_LIST KNOWN_MISSES)
      if(composed GREATER hand)
        string(APPEND row "   known miss")
      else()
        list(APPEND failures "${design}/${pattern} is listed in KNOWN_MISSES but no longer misses: remove it")
      endif()
    elseif(composed GREATER hand)
      list(APPEND failures "${design}/${pattern}: composed ${composed_per_pair} > hand-written ${hand_per_pair}")
    endif()
    message("  ${row}")
  endforeach()
endforeach()

if(CHECK AND failures)
  list(JOIN failures "\n  " text)
  message(FATAL_ERROR "a composed design costs more instructions than the same design written by hand:\n  ${text}")
endif()
