# cmake -DSJ_HEADERS="a.h;b.h" -P check-headers.cmake
# Fails when a public header has no Doxygen @file block: Doxygen would then
# skip its undocumented members without a warning.
set(missing "")
foreach(h IN LISTS SJ_HEADERS)
    file(READ "${h}" text)
    if(NOT text MATCHES "/\\*\\*[^/]*@file")
        list(APPEND missing "${h}")
    endif()
endforeach()
if(missing)
    list(JOIN missing "\n  " missing)
    message(FATAL_ERROR "these public headers have no /** @file ... */ block, so Doxygen "
                        "would not check their members:\n  ${missing}")
endif()
