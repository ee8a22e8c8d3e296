# cmake -DSOURCE=<alloy> -DWORK=<dir> -DGENERATOR=<gen> -P install_bare.cmake
# Configures Alloy as someone who only installs it would, on a machine without Catch2 and
# Google Benchmark (hidden with CMAKE_DISABLE_FIND_PACKAGE_*, which also makes a REQUIRED
# search for them fail), installs it, and checks that the headers' package came out whole.
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE ${WORK})
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK}/build -G ${GENERATOR} -DALLOY_BUILD_TOOLS=OFF
                        -DCMAKE_DISABLE_FIND_PACKAGE_Catch2=ON -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring without Catch2 and Google Benchmark failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --install ${WORK}/build --prefix ${WORK}/prefix RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "installing failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -DPREFIX=${WORK}/prefix -DCOMPONENTS= -P ${CMAKE_CURRENT_LIST_DIR}/check_layout.cmake
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the installed layout is wrong")
endif()
