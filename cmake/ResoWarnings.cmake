# SPDX-License-Identifier: Apache-2.0
# Warnings are errors everywhere; sanitizers on request (RESO_SANITIZE).
add_compile_options(-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
                    -Wmissing-prototypes -Wno-unused-parameter
                    -fno-strict-aliasing)
add_compile_definitions(_POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
if(RESO_FUZZ)
  # Everything is instrumented for coverage; only fuzz executables link the
  # libFuzzer driver (tests/fuzz/CMakeLists.txt adds -fsanitize=fuzzer).
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
if(RESO_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
