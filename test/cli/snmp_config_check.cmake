# `vrrp_exporter --config.check --snmp.config.file F`: the SNMP module file
# is checked with the main one, its errors as FILE:LINE:COL, and no secret
# of it printed.
#
#   cmake -DEXE=path/to/vrrp_exporter -DSRC=repo-root -P snmp_config_check.cmake

foreach(var EXE SRC)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "snmp_config_check.cmake: pass -D${var}=...")
  endif()
endforeach()

execute_process(
  COMMAND "${EXE}" --config.check "${SRC}/examples/config.yml"
          --snmp.config.file "${SRC}/examples/snmp.yml"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "snmp\\.yml: OK, 2 SNMP module\\(s\\)")
  message(FATAL_ERROR "examples/snmp.yml should pass\n${rc}\n${out}\n${err}")
endif()

set(bad "${SRC}/test/data/snmp/bad_version.yml")
execute_process(
  COMMAND "${EXE}" --config.check "${SRC}/examples/config.yml"
          --snmp.config.file "${bad}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "${bad} should exit 1, got ${rc}\n${out}\n${err}")
endif()
if(NOT err MATCHES "bad_version\\.yml:6:14: modules\\.bad\\.version: must be 2c or 3")
  message(FATAL_ERROR "expected FILE:LINE:COL for the bad version\n${err}")
endif()
if(err MATCHES "topsecret" OR out MATCHES "topsecret")
  message(FATAL_ERROR "the community was printed\n${out}\n${err}")
endif()
