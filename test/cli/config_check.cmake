# Runs `vrrp_exporter --config.check` as a user would and checks the exit
# code and output.
#
#   cmake -DEXE=path/to/vrrp_exporter -DSRC=repo-root -P config_check.cmake

foreach(var EXE SRC)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "config_check.cmake: pass -D${var}=...")
  endif()
endforeach()

# Runs EXE with ARGN; sets rc, out and err in the caller's scope.
function(run_exporter)
  execute_process(
    COMMAND "${EXE}" ${ARGN}
    RESULT_VARIABLE result
    OUTPUT_VARIABLE stdout
    ERROR_VARIABLE stderr)
  set(rc "${result}" PARENT_SCOPE)
  set(out "${stdout}" PARENT_SCOPE)
  set(err "${stderr}" PARENT_SCOPE)
endfunction()

function(fail what)
  message(FATAL_ERROR
    "${what}\n  exit: ${rc}\n  stdout: ${out}\n  stderr: ${err}")
endfunction()

# 1. The shipped example is valid.
set(example "${SRC}/examples/config.yml")
run_exporter(--config.check "${example}")
if(NOT rc EQUAL 0)
  fail("--config.check ${example} should exit 0")
endif()
if(NOT out MATCHES "config\\.yml: OK, [0-9]+ instance\\(s\\)")
  fail("--config.check ${example} should print 'OK, N instance(s)'")
endif()

# 2. A bad VRID is reported as FILE:LINE:COLUMN: FIELD: MESSAGE, on stderr.
#    bad_vrid.yml keeps the bad value on line 7.
set(bad "${SRC}/test/data/configs/bad_vrid.yml")
run_exporter(--config.check "${bad}")
if(rc EQUAL 0)
  fail("--config.check ${bad} should fail")
endif()
if(NOT err MATCHES "bad_vrid\\.yml:7:[0-9]+: instances\\[0\\]\\.vrid: ")
  fail("--config.check ${bad} should report bad_vrid.yml:7: instances[0].vrid")
endif()
if(out MATCHES "OK")
  fail("--config.check ${bad} should not print OK")
endif()

# 3. A missing file is an error, with the system's reason.
set(missing "${SRC}/test/data/configs/does-not-exist.yml")
run_exporter(--config.check "${missing}")
if(rc EQUAL 0)
  fail("--config.check on a missing file should fail")
endif()
if(NOT err MATCHES "does-not-exist\\.yml: .*No such file or directory")
  fail("--config.check on a missing file should say why")
endif()

# 4. --version prints the name and version.
run_exporter(--version)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^vrrp_exporter [0-9]+\\.[0-9]+\\.[0-9]+")
  fail("--version should print 'vrrp_exporter X.Y.Z' and exit 0")
endif()

# 5. A bad flag value is a usage error (exit 1).
run_exporter(--log.level verbose --config.check "${example}")
if(NOT rc EQUAL 1)
  fail("--log.level verbose should be rejected with exit code 1")
endif()

# 6. Without a path of its own, --config.check checks --config.file, in
#    either order, and never takes the next option for its path.
foreach(args "--config.check;--config.file;${example}"
             "--config.file;${example};--config.check"
             "--config.check;--log.level;debug;--config.file;${example}")
  run_exporter(${args})
  if(NOT rc EQUAL 0 OR NOT out MATCHES "config\\.yml: OK, ")
    fail("'${args}' should check ${example} and exit 0")
  endif()
endforeach()
run_exporter(--config.check --config.file "${bad}")
if(rc EQUAL 0 OR NOT err MATCHES "bad_vrid\\.yml:7:")
  fail("--config.check --config.file ${bad} should report bad_vrid.yml:7")
endif()
